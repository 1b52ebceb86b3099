import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CursorQueryDto, type Page } from '@parley/core';
import { ApiKeyService, type ApiKeyView } from '../api-keys/api-key.service';
import { AuditService, type AuditLogView } from '../audit/audit.service';
import { TenantsService } from '../admin/tenants.service';
import { UsersService, type UserView } from '../admin/users.service';
import { InteractiveSessionRequiredError } from '../auth.errors';
import { ApiKeyPageDto } from '../dto/api-key.dto';
import {
  AuditLogPageDto,
  AuditQueryDto,
  CreatedTenantDto,
  CreateTenantDto,
  CreateUserDto,
  TenantPageDto,
  UpdateUserDto,
  UserDto,
  UserPageDto,
} from '../dto/admin.dto';
import { Authorize } from '../guards/authorize.decorator';
import { CurrentPrincipal } from '../guards/current-principal.service';
import { RateLimit } from '../rate-limit/rate-limit-group.decorator';

/**
 * Tenant administration, for an admin console: admins (or keys with the `admin` scope, which may
 * not create users or change roles: those need an admin's access token).
 */
@ApiTags('admin')
@RateLimit('admin')
@Authorize({ role: 'admin', scope: 'admin' })
@Controller('v1/admin')
export class AdminController {
  constructor(
    private readonly users: UsersService,
    private readonly keys: ApiKeyService,
    private readonly audit: AuditService,
    private readonly principal: CurrentPrincipal,
  ) {}

  private get tenantId(): string {
    return this.principal.get().tenantId;
  }

  @Get('users')
  @ApiOperation({ summary: 'Users of your tenant, newest first.' })
  @ApiOkResponse({ type: UserPageDto })
  listUsers(@Query() query: CursorQueryDto): Promise<Page<UserView>> {
    return this.users.list(this.tenantId, query);
  }

  @Post('users')
  @ApiOperation({
    summary: 'Create a user in your tenant.',
    description: 'Needs an admin’s access token: API keys, even with the `admin` scope, may not.',
  })
  @ApiCreatedResponse({ type: UserDto })
  @ApiForbiddenResponse({
    description:
      'Not an admin (`FORBIDDEN`), or an API key (`INTERACTIVE_SESSION_REQUIRED`: use an interactive admin session).',
  })
  createUser(@Body() body: CreateUserDto): Promise<UserView> {
    if (this.principal.get().kind === 'apiKey')
      throw new InteractiveSessionRequiredError('create users');
    return this.users.create(this.tenantId, body);
  }

  @Get('users/:id')
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND` (also for users of other tenants)' })
  getUser(@Param('id', ParseUUIDPipe) id: string): Promise<UserView> {
    return this.users.get(this.tenantId, id);
  }

  @Patch('users/:id')
  @ApiOperation({
    summary:
      'Change role, name or disabled; role and status changes end the user’s sessions at once.',
    description:
      'Changing `role` needs an admin’s access token (API keys may not). A superadmin’s account is changed only by a superadmin.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  @ApiForbiddenResponse({
    description:
      'Not an admin (`FORBIDDEN`), `role` sent with an API key (`INTERACTIVE_SESSION_REQUIRED`), or the user is a superadmin and you are not (`SUPERADMIN_PROTECTED`).',
  })
  updateUser(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserView> {
    const principal = this.principal.get();
    if (principal.kind === 'apiKey' && body.role !== undefined)
      throw new InteractiveSessionRequiredError('change roles');
    return this.users.update(this.tenantId, id, body, principal);
  }

  @Get('api-keys')
  @ApiOperation({ summary: 'Every API key of your tenant, without secrets.' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  listKeys(@Query() query: CursorQueryDto): Promise<Page<ApiKeyView>> {
    return this.keys.list(this.tenantId, query);
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  async revokeKey(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.keys.revoke(this.tenantId, id);
  }

  @Get('audit-logs')
  @ApiOperation({ summary: 'The audit log of your tenant, newest first.' })
  @ApiOkResponse({ type: AuditLogPageDto })
  auditLogs(@Query() query: AuditQueryDto): Promise<Page<AuditLogView>> {
    return this.audit.list(this.tenantId, query);
  }
}

/** Installation-wide: creating and listing tenants is for superadmins. */
@ApiTags('admin')
@RateLimit('admin')
@Authorize({ role: 'admin', superadmin: true })
@Controller('v1/admin/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a tenant and its first admin (superadmin only).' })
  @ApiCreatedResponse({ type: CreatedTenantDto })
  create(@Body() body: CreateTenantDto): Promise<CreatedTenantDto> {
    return this.tenants.create(body);
  }

  @Get()
  @ApiOkResponse({ type: TenantPageDto })
  list(@Query() query: CursorQueryDto): Promise<TenantPageDto> {
    return this.tenants.list(query);
  }
}

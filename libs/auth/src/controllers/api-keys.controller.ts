import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CursorQueryDto, type Page } from '@parley/core';
import { ApiKeyService, type ApiKeyView } from '../api-keys/api-key.service';
import { ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from '../dto/api-key.dto';
import { Authorize } from '../guards/authorize.decorator';
import { CurrentPrincipal } from '../guards/current-principal.service';

/** A user's own API keys. Keys cannot manage keys: these routes need a user's access token. */
@ApiTags('api-keys')
@Authorize({ role: 'member' })
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key. The secret (`key`) is returned this once.' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(this.principal.get(), body);
  }

  @Get()
  @ApiOperation({ summary: 'Your API keys, newest first, without secrets.' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Query() query: CursorQueryDto): Promise<Page<ApiKeyView>> {
    const p = this.principal.get();
    return this.keys.list(p.tenantId, { ...query, createdBy: p.userId });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of your API keys; it fails from the next request on.' })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  async revoke(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    const p = this.principal.get();
    await this.keys.revoke(p.tenantId, id, p.userId);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Issue a new secret; the old one keeps working for the configured grace period.',
  })
  @ApiOkResponse({ type: CreatedApiKeyDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  rotate(@Param('id', ParseUUIDPipe) id: string): Promise<CreatedApiKeyDto> {
    const p = this.principal.get();
    return this.keys.rotate(p.tenantId, id, p.userId);
  }
}

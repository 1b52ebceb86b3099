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
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { CursorQueryDto, type Page } from '@parley/core';
import {
  CreateToolDto,
  ToolDto,
  ToolPageDto,
  ToolSettingsDto,
  UpdatedToolDto,
  UpdateToolDto,
} from './dto/tools.dto';
import { ToolsService, type ToolView, type UpdatedToolView } from './registry/tools.service';

const RISK_LOWERING_BY_KEY =
  'Not a tenant admin (`FORBIDDEN`), or `INTERACTIVE_SESSION_REQUIRED`: an API key set `risk: "low"` on a tool whose method is not GET; only a person may (log in as an admin).';

/** The tools your tenant's agents may call, and where those calls may go. */
@ApiTags('admin')
@RateLimit('admin')
@Authorize({ role: 'admin', scope: 'admin' })
@Controller('v1/admin')
export class ToolsAdminController {
  constructor(
    private readonly tools: ToolsService,
    private readonly principal: CurrentPrincipal,
  ) {}

  private get tenantId(): string {
    return this.principal.get().tenantId;
  }

  @Post('tools')
  @ApiOperation({
    summary: 'Define an HTTP tool (name, description, JSON Schema of its arguments, call).',
    description:
      'Without `risk`, a GET tool is `low` and any other method `high` (each call waits for a person to approve it). ' +
      'Without `enableRoles`, only admins may enable the tool on a conversation. The path of `http.url` may not hold ' +
      '"." or ".." segments (also %2e) or backslashes (400 on `http.url`).',
  })
  @ApiOkResponse({ type: ToolDto })
  @ApiForbiddenResponse({ description: RISK_LOWERING_BY_KEY })
  create(@Body() body: CreateToolDto): Promise<ToolView> {
    return this.tools.create(this.tenantId, body, this.principal.get());
  }

  @Get('tools')
  @ApiOkResponse({ type: ToolPageDto })
  list(@Query() query: CursorQueryDto): Promise<Page<ToolView>> {
    return this.tools.list(this.tenantId, query);
  }

  @Get('tools/:id')
  @ApiOkResponse({ type: ToolDto })
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<ToolView> {
    return this.tools.get(this.tenantId, id);
  }

  @Patch('tools/:id')
  @ApiOperation({
    summary: 'Change a tool.',
    description:
      'A `http.url` on another origin (scheme, host or port) drops the stored secret headers, unless the same request sends `secretHeaders`: ' +
      'the answer says so with `secretHeadersCleared: true`, and the tool calls without them until an admin enters them again. ' +
      'A new non-GET `http.method` without `risk` makes a low-risk tool high; `risk` is never lowered implicitly.',
  })
  @ApiOkResponse({ type: UpdatedToolDto })
  @ApiForbiddenResponse({ description: RISK_LOWERING_BY_KEY })
  update(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: UpdateToolDto,
  ): Promise<UpdatedToolView> {
    return this.tools.update(this.tenantId, id, body, this.principal.get());
  }

  @Delete('tools/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.tools.remove(this.tenantId, id);
  }

  @Get('tool-settings')
  @ApiOperation({ summary: 'The hosts your HTTP tools may call.' })
  @ApiOkResponse({ type: ToolSettingsDto })
  async settings(): Promise<ToolSettingsDto> {
    return { allowedHosts: await this.tools.allowedHosts(this.tenantId) };
  }

  @Put('tool-settings')
  @ApiOperation({ summary: 'Replace the hosts your HTTP tools may call.' })
  @ApiOkResponse({ type: ToolSettingsDto })
  async setSettings(@Body() body: ToolSettingsDto): Promise<ToolSettingsDto> {
    return { allowedHosts: await this.tools.setAllowedHosts(this.tenantId, body.allowedHosts) };
  }
}

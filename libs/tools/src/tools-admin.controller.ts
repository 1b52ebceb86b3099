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
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { CursorQueryDto, type Page } from '@parley/core';
import {
  CreateToolDto,
  ToolDto,
  ToolPageDto,
  ToolSettingsDto,
  UpdateToolDto,
} from './dto/tools.dto';
import { ToolsService, type ToolView } from './registry/tools.service';

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
  })
  @ApiOkResponse({ type: ToolDto })
  create(@Body() body: CreateToolDto): Promise<ToolView> {
    return this.tools.create(this.tenantId, body);
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
  @ApiOkResponse({ type: ToolDto })
  update(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: UpdateToolDto,
  ): Promise<ToolView> {
    return this.tools.update(this.tenantId, id, body);
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

import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { Clock, ValidationFailedError } from '@parley/core';
import type { FastifyReply } from 'fastify';
import { BudgetsService } from './budgets/budgets.service';
import type { BudgetRule, CostSettings } from './budgets/budget.types';
import {
  AdminUsageQueryDto,
  BudgetListDto,
  CostSettingsDto,
  DeleteBudgetQueryDto,
  ModelPriceDto,
  ModelPriceListDto,
  PutBudgetsDto,
  PutPriceDto,
  TenantQueryDto,
  UsageReportDto,
} from './dto/cost.dto';
import { PricingService, type ModelPriceView } from './pricing/pricing.service';
import { sendReport, usageRange } from './usage/usage-query';
import { UsageReportService, type UsageReport } from './usage/usage-report.service';

const MODEL_NAME = /^[A-Za-z0-9._:@/-]{1,200}$/;

/** Prices, budgets, cost settings and usage of the admin's tenant. */
@ApiTags('admin')
@RateLimit('admin')
@Authorize({ role: 'admin', scope: 'admin' })
@Controller('v1/admin')
export class CostAdminController {
  constructor(
    private readonly pricing: PricingService,
    private readonly budgets: BudgetsService,
    private readonly reports: UsageReportService,
    private readonly principal: CurrentPrincipal,
    private readonly clock: Clock,
  ) {}

  @Get('pricing')
  @ApiOperation({ summary: 'Chat model prices: config/pricing.yaml with your tenant’s overrides.' })
  @ApiOkResponse({ type: ModelPriceListDto })
  async listPrices(): Promise<{ items: ModelPriceView[] }> {
    return { items: await this.pricing.list(this.principal.get().tenantId) };
  }

  @Put('pricing/:model')
  @ApiOperation({
    summary:
      'Set your tenant’s price for a model (USD per million tokens, decimal strings). URL-encode a provider/model name.',
  })
  @ApiOkResponse({ type: ModelPriceDto })
  setPrice(@Param('model') model: string, @Body() body: PutPriceDto): Promise<ModelPriceView> {
    return this.pricing.set(this.principal.get().tenantId, checkModel(model), body);
  }

  @Delete('pricing/:model')
  @HttpCode(204)
  @ApiOperation({ summary: 'Drop your tenant’s price override; pricing.yaml applies again.' })
  @ApiNoContentResponse()
  async removePrice(@Param('model') model: string): Promise<void> {
    await this.pricing.remove(this.principal.get().tenantId, checkModel(model));
  }

  @Get('budgets')
  @ApiOperation({
    summary:
      'Budget overrides of your tenant (and the global one for superadmins), and the defaults.',
  })
  @ApiOkResponse({ type: BudgetListDto })
  listBudgets(): Promise<{ budgets: BudgetRule[]; defaults: BudgetRule[] }> {
    return this.budgets.list(this.principal.get());
  }

  @Put('budgets')
  @ApiOperation({
    summary:
      'Set budgets (all or none). User and API key budgets: tenant admins; tenant and global budgets: superadmins.',
  })
  @ApiOkResponse({ type: BudgetListDto })
  async putBudgets(@Body() body: PutBudgetsDto): Promise<{ budgets: BudgetRule[] }> {
    return { budgets: await this.budgets.put(this.principal.get(), body.budgets) };
  }

  @Delete('budgets')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a budget override, so the default applies again.' })
  @ApiNoContentResponse()
  async removeBudget(@Query() query: DeleteBudgetQueryDto): Promise<void> {
    await this.budgets.remove(this.principal.get(), query.scope, query.scopeId, query.period);
  }

  @Get('cost-settings')
  @ApiOperation({
    summary:
      'Your tenant’s budget time zone and failure policy (superadmins: any tenant’s, with ?tenantId=).',
  })
  @ApiOkResponse({ type: CostSettingsDto })
  settings(@Query() query: TenantQueryDto): Promise<CostSettings> {
    return this.budgets.settings(this.budgets.tenantOf(this.principal.get(), query.tenantId));
  }

  @Put('cost-settings')
  @ApiOperation({
    summary:
      'Change the time zone of budget windows, or (superadmins, for any tenant with ?tenantId=) the failure policy.',
  })
  @ApiOkResponse({ type: CostSettingsDto })
  updateSettings(
    @Query() query: TenantQueryDto,
    @Body() body: CostSettingsDto,
  ): Promise<CostSettings> {
    return this.budgets.updateSettings(this.principal.get(), body, query.tenantId);
  }

  @Get('usage')
  @ApiOperation({
    summary:
      'Usage and cost of your tenant by day, model, user or API key, with totals (CSV with Accept: text/csv).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: UsageReportDto })
  async usage(
    @Query() query: AdminUsageQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageReport | string> {
    const tenantId = this.principal.get().tenantId;
    const settings = await this.budgets.settings(tenantId);
    const report = await this.reports.report({
      tenantId,
      ...usageRange(query, this.clock.now()),
      groupBy: query.groupBy ?? 'day',
      timeZone: settings.timeZone,
    });
    return sendReport(accept, reply, report);
  }
}

function checkModel(model: string): string {
  if (!MODEL_NAME.test(model))
    throw new ValidationFailedError([
      {
        field: 'model',
        messages: ['model must be a model name such as gpt-4o-mini or openai/gpt-4o-mini'],
      },
    ]);
  return model;
}

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
  ApiForbiddenResponse,
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
  BudgetStatusListDto,
  BudgetStatusQueryDto,
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
  @ApiOperation({
    summary:
      'Chat model prices: config/pricing.yaml with your tenant’s overrides, as they apply (superadmins: any tenant’s, with ?tenantId=).',
  })
  @ApiOkResponse({ type: ModelPriceListDto })
  async listPrices(@Query() query: TenantQueryDto): Promise<{ items: ModelPriceView[] }> {
    const tenantId = this.budgets.tenantOf(this.principal.get(), query.tenantId);
    return { items: await this.pricing.list(tenantId) };
  }

  @Put('pricing/:model')
  @ApiOperation({
    summary:
      'Set your tenant’s price for a model (USD per million tokens, decimal strings). URL-encode a provider/model name.',
    description:
      'Tenant admins may only raise prices (chargeback): every component (input, cached input, output) must be at least the configured price (config/pricing.yaml, or the unknown-model default), and a model without one cannot be priced; otherwise 403 `PRICE_LOWERING_FORBIDDEN`, naming the minimums. Such an override never applies below the configured price, even if that rises later. Superadmins may set any price, also lower (a discount), for any tenant with ?tenantId=.',
  })
  @ApiOkResponse({ type: ModelPriceDto })
  @ApiForbiddenResponse({
    description:
      '`PRICE_LOWERING_FORBIDDEN` (a tenant admin’s price below the configured one), or `FORBIDDEN`.',
  })
  setPrice(
    @Param('model') model: string,
    @Query() query: TenantQueryDto,
    @Body() body: PutPriceDto,
  ): Promise<ModelPriceView> {
    const principal = this.principal.get();
    const tenantId = this.budgets.tenantOf(principal, query.tenantId);
    return this.pricing.set(principal, tenantId, checkModel(model), body);
  }

  @Delete('pricing/:model')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Drop your tenant’s price override; pricing.yaml applies again (superadmins: any tenant’s, with ?tenantId=).',
  })
  @ApiNoContentResponse()
  async removePrice(@Param('model') model: string, @Query() query: TenantQueryDto): Promise<void> {
    const tenantId = this.budgets.tenantOf(this.principal.get(), query.tenantId);
    await this.pricing.remove(tenantId, checkModel(model));
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

  @Get('budgets/status')
  @ApiOperation({
    summary:
      'The budgets that apply to a user or an API key of your tenant (or to the tenant alone), with what is spent, reserved and left in this window.',
  })
  @ApiOkResponse({ type: BudgetStatusListDto })
  async budgetStatus(@Query() query: BudgetStatusQueryDto): Promise<BudgetStatusListDto> {
    return { items: await this.budgets.statusFor(this.principal.get(), query) };
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
    description:
      'A new time zone applies from the end of the day and month windows open when it is changed: they run to their end (and on to the end of the new zone’s window then in progress, when less than 20 hours or 27 days of it are left), so a change never reopens a window that is already spent.',
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

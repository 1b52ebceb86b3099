import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal } from '@parley/auth';
import { Clock } from '@parley/core';
import type { FastifyReply } from 'fastify';
import { BudgetsService } from '../budgets/budgets.service';
import { BudgetStatusListDto, UsageQueryDto, UsageReportDto } from '../dto/cost.dto';
import { sendReport, usageRange } from './usage-query';
import { UsageReportService, type UsageReport } from './usage-report.service';

/** The caller's own usage and budgets: a user sees their calls, an API key its own. */
@ApiTags('usage')
@Authorize({ role: 'member', scope: 'usage:read' })
@Controller('v1/usage')
export class UsageController {
  constructor(
    private readonly reports: UsageReportService,
    private readonly budgets: BudgetsService,
    private readonly principal: CurrentPrincipal,
    private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Your usage and cost, grouped by day or model, with totals (CSV with Accept: text/csv).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: UsageReportDto })
  async usage(
    @Query() query: UsageQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UsageReport | string> {
    const principal = this.principal.get();
    const settings = await this.budgets.settings(principal.tenantId);
    const report = await this.reports.report({
      tenantId: principal.tenantId,
      ...(principal.kind === 'apiKey'
        ? { apiKeyId: principal.apiKeyId }
        : { userId: principal.userId }),
      ...usageRange(query, this.clock.now()),
      groupBy: query.groupBy ?? 'day',
      timeZone: settings.timeZone,
    });
    return sendReport(accept, reply, report);
  }

  @Get('budgets')
  @ApiOperation({
    summary: 'The budgets that apply to you, with what is spent, reserved and left in this window.',
  })
  @ApiOkResponse({ type: BudgetStatusListDto })
  async myBudgets(): Promise<BudgetStatusListDto> {
    const p = this.principal.get();
    const items = await this.budgets.status({
      tenantId: p.tenantId,
      userId: p.userId,
      apiKeyId: p.apiKeyId,
    });
    // The installation-wide budget is the operator's business; tenants see their own.
    return { items: p.superadmin ? items : items.filter((b) => b.scope !== 'global') };
  }
}

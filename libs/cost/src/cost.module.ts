import { Module } from '@nestjs/common';
import { AuthModule } from '@parley/auth';
import { CostService } from './admission/cost.service';
import { ReservationSweeper } from './admission/reservation.sweeper';
import { SnapshotCache } from './admission/snapshot-cache';
import { BudgetAlerts } from './admission/budget-alerts';
import { BudgetsService } from './budgets/budgets.service';
import { CostAdminController } from './cost-admin.controller';
import { CostMetrics } from './cost.metrics';
import { PricingCatalog } from './pricing/pricing.catalog';
import { PricingService } from './pricing/pricing.service';
import { UsageController } from './usage/usage.controller';
import { UsageReportService } from './usage/usage-report.service';

/** Pricing, budgets with reservations, the usage ledger and its reports. */
@Module({
  imports: [AuthModule],
  controllers: [UsageController, CostAdminController],
  providers: [
    PricingCatalog,
    PricingService,
    BudgetsService,
    CostService,
    CostMetrics,
    SnapshotCache,
    BudgetAlerts,
    ReservationSweeper,
    UsageReportService,
  ],
  exports: [CostService, CostMetrics, ReservationSweeper],
})
export class CostModule {}

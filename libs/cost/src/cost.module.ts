import { Module } from '@nestjs/common';
import { ActingUsers, AuditModule, AuthModule } from '@parley/auth';
import { CostService } from './admission/cost.service';
import { ReservationSweeper } from './admission/reservation.sweeper';
import { SnapshotCache } from './admission/snapshot-cache.service';
import { BudgetAlerts } from './admission/budget-alerts.service';
import { BudgetsService } from './budgets/budgets.service';
import { CostAdminController } from './cost-admin.controller';
import { CostMetrics } from './cost.metrics';
import { PricingCatalog } from './pricing/pricing.catalog';
import { PricingService } from './pricing/pricing.service';
import { UsageController } from './usage/usage.controller';
import { UsageReportService } from './usage/usage-report.service';

/**
 * Admission, settlement and pricing without any routes: what a worker needs to meter the paid
 * calls its jobs make (embeddings while ingesting).
 */
@Module({
  imports: [AuditModule],
  providers: [
    // Stateless reads of auth's users and keys (the budgets of a user or key of a tenant).
    ActingUsers,
    PricingCatalog,
    BudgetsService,
    CostService,
    CostMetrics,
    SnapshotCache,
    BudgetAlerts,
    ReservationSweeper,
  ],
  exports: [
    PricingCatalog,
    BudgetsService,
    CostService,
    CostMetrics,
    ReservationSweeper,
    SnapshotCache,
  ],
})
export class CostCoreModule {}

/** Pricing, budgets with reservations, the usage ledger and its reports, with their routes. */
@Module({
  imports: [AuthModule, CostCoreModule],
  controllers: [UsageController, CostAdminController],
  providers: [PricingService, UsageReportService],
  exports: [CostCoreModule],
})
export class CostModule {}

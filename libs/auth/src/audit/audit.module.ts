import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditLogEntity } from '../entities/audit-log.entity';
import { CurrentPrincipal } from '../guards/current-principal.service';
import { AuditService } from './audit.service';

/**
 * Writing the audit log, on its own: for processes that record audited events (budget alerts
 * from a worker's jobs) without serving the identity routes and guards of AuthModule.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AuditLogEntity])],
  providers: [AuditService, CurrentPrincipal],
  exports: [AuditService, CurrentPrincipal],
})
export class AuditModule {}

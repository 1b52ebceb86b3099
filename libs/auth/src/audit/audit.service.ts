import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { decodeCursor, type Page, RequestContext, toPage } from '@parley/core';
import { newId } from '@parley/database';
import {
  Between,
  type EntityManager,
  type FindOptionsWhere,
  LessThan,
  LessThanOrEqual,
  MoreThanOrEqual,
  type Repository,
} from 'typeorm';
import { AuditLogEntity } from '../entities/audit-log.entity';
import { CurrentPrincipal } from '../guards/current-principal.service';
import type { AuditAction } from './audit.actions';

export interface AuditEntry {
  tenantId: string | null;
  targetType?: string;
  targetId?: string;
  /** Facts about the event; never secrets, tokens or message content. */
  metadata?: Record<string, unknown>;
  /** The actor when there is no principal yet (a login). */
  actorUserId?: string;
}

export interface AuditLogView {
  id: string;
  action: string;
  actorUserId: string | null;
  actorApiKeyId: string | null;
  ip: string | null;
  userAgent: string | null;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}

export interface AuditQuery {
  action?: string;
  actorId?: string;
  from?: Date;
  to?: Date;
  cursor?: string;
  limit: number;
}

const toView = (e: AuditLogEntity): AuditLogView => ({
  id: e.id,
  action: e.action,
  actorUserId: e.actorUserId,
  actorApiKeyId: e.actorApiKeyId,
  ip: e.ip,
  userAgent: e.userAgent,
  targetType: e.targetType,
  targetId: e.targetId,
  requestId: e.requestId,
  metadata: e.metadata,
  createdAt: e.createdAt.toISOString(),
});

/** Appends to the audit log; who, from where and which request come from the request context. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    @InjectRepository(AuditLogEntity) private readonly logs: Repository<AuditLogEntity>,
    private readonly principal: CurrentPrincipal,
    private readonly context: RequestContext,
  ) {}

  /** Pass the `manager` of a transaction to make the entry part of it. */
  async record(action: AuditAction, entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const principal = this.principal.maybe();
    const meta = this.context.meta();
    const logs = manager?.getRepository(AuditLogEntity) ?? this.logs;
    await logs.insert({
      id: newId(),
      tenantId: entry.tenantId,
      action,
      actorUserId: principal?.userId ?? entry.actorUserId ?? null,
      actorApiKeyId: principal?.apiKeyId ?? null,
      ip: meta.ip ?? null,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      requestId: meta.requestId ?? null,
      // TypeORM's deep-partial type cannot express a free-form jsonb object.
      metadata: (entry.metadata ?? {}) as never,
    });
    this.logger.log({ action, tenantId: entry.tenantId, targetId: entry.targetId }, 'audit');
  }

  async list(tenantId: string, query: AuditQuery): Promise<Page<AuditLogView>> {
    const after = decodeCursor(query.cursor);
    const where: FindOptionsWhere<AuditLogEntity> = { tenantId };
    if (query.action) where.action = query.action;
    if (after) where.id = LessThan(after);
    if (query.from && query.to) where.createdAt = Between(query.from, query.to);
    else if (query.from) where.createdAt = MoreThanOrEqual(query.from);
    else if (query.to) where.createdAt = LessThanOrEqual(query.to);
    const actorFilter = query.actorId
      ? [
          { ...where, actorUserId: query.actorId },
          { ...where, actorApiKeyId: query.actorId },
        ]
      : where;
    const rows = await this.logs.find({
      where: actorFilter,
      order: { id: 'DESC' },
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, toView);
  }
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { newId } from '@parley/database';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { RefreshTokenInvalidError, RefreshTokenReusedError } from '../auth.errors';
import { AuditService } from '../audit/audit.service';
import { RefreshTokenEntity } from '../entities/refresh-token.entity';

const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

export interface IssuedRefreshToken {
  token: string;
  familyId: string;
}

/**
 * Opaque refresh tokens, stored hashed, in families that rotate on every use. Presenting a
 * token that was already rotated means it leaked: the whole family is revoked.
 */
@Injectable()
export class RefreshTokenService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async issue(
    user: { id: string; tenantId: string },
    familyId = newId(),
    manager?: EntityManager,
  ): Promise<IssuedRefreshToken> {
    const token = randomBytes(32).toString('base64url');
    const repo = (manager ?? this.dataSource.manager).getRepository(RefreshTokenEntity);
    await repo.insert({
      id: newId(),
      tenantId: user.tenantId,
      userId: user.id,
      familyId,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + this.config.security.jwt.refreshTtlSeconds * 1000),
    });
    return { token, familyId };
  }

  /**
   * Rotates: marks the presented token used and issues its successor, in one transaction with
   * the row locked, so two concurrent uses cannot both succeed.
   */
  async rotate(
    token: string,
  ): Promise<{ userId: string; tenantId: string; next: IssuedRefreshToken }> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const row = await manager
        .getRepository(RefreshTokenEntity)
        .createQueryBuilder('t')
        .setLock('pessimistic_write')
        .where('t.token_hash = :hash', { hash: hashToken(token) })
        .getOne();
      if (!row || row.expiresAt <= new Date()) return { kind: 'invalid' as const };
      if (row.rotatedAt || row.revokedAt) {
        await this.revokeFamily(row.familyId, manager);
        return { kind: 'reused' as const, row };
      }
      const user: { disabled: boolean }[] = await manager.query(
        'SELECT disabled FROM users WHERE id = $1',
        [row.userId],
      );
      if (!user[0] || user[0].disabled) return { kind: 'invalid' as const };
      await manager.update(RefreshTokenEntity, { id: row.id }, { rotatedAt: new Date() });
      const next = await this.issue(
        { id: row.userId, tenantId: row.tenantId },
        row.familyId,
        manager,
      );
      return { kind: 'rotated' as const, row, next };
    });
    if (outcome.kind === 'invalid') throw new RefreshTokenInvalidError();
    if (outcome.kind === 'reused') {
      await this.audit.record('auth.refresh.reused', {
        tenantId: outcome.row.tenantId,
        actorUserId: outcome.row.userId,
        targetType: 'session',
        targetId: outcome.row.familyId,
      });
      throw new RefreshTokenReusedError();
    }
    return { userId: outcome.row.userId, tenantId: outcome.row.tenantId, next: outcome.next };
  }

  /** Ends the session the token belongs to. Unknown tokens are ignored (logout is idempotent). */
  async revoke(token: string): Promise<{ userId: string; tenantId: string } | null> {
    const rows: { family_id: string; user_id: string; tenant_id: string }[] =
      await this.dataSource.query(
        'SELECT family_id, user_id, tenant_id FROM refresh_tokens WHERE token_hash = $1',
        [hashToken(token)],
      );
    if (!rows[0]) return null;
    await this.revokeFamily(rows[0].family_id);
    return { userId: rows[0].user_id, tenantId: rows[0].tenant_id };
  }

  private async revokeFamily(
    familyId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    await manager.query(
      'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
      [familyId],
    );
  }
}

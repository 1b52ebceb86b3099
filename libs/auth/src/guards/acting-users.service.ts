import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type Role, ROLE_SCOPES, type Scope } from '../auth.constants';

/**
 * The user a caller acts as: the user themself, or an API key's creator. Other libs use it to
 * apply per-user rules (knowledge base access) to API keys, and to re-check a caller outside
 * its request (a chat turn's retrieval, a tool call).
 */
export interface ActingUser {
  userId: string;
  role: Role;
  superadmin: boolean;
  /** For an API key: its effective scopes (those its creator's role still allows). */
  keyScopes?: Scope[];
}

/**
 * Resolves `{tenantId, userId?, apiKeyId?}` to the user it acts as, read now (role, status, key
 * revocation and expiry), never cached.
 */
@Injectable()
export class ActingUsers {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * An API key (when `apiKeyId` is given) acts as its creator; otherwise the user. Undefined
   * when neither is given, or when the user is disabled or gone, or the key is revoked, expired
   * or its creator disabled.
   */
  async resolve(subject: {
    tenantId: string;
    userId?: string;
    apiKeyId?: string;
  }): Promise<ActingUser | undefined> {
    if (subject.apiKeyId) {
      const rows: { user_id: string; role: Role; scopes: Scope[] }[] = await this.dataSource.query(
        `SELECT u.id AS user_id, u.role, k.scopes
             FROM api_keys k JOIN users u ON u.id = k.created_by AND u.tenant_id = k.tenant_id
            WHERE k.id = $1 AND k.tenant_id = $2 AND k.revoked_at IS NULL
              AND (k.expires_at IS NULL OR k.expires_at > now()) AND u.disabled = false`,
        [subject.apiKeyId, subject.tenantId],
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        userId: row.user_id,
        role: row.role,
        superadmin: false,
        keyScopes: row.scopes.filter((s) => ROLE_SCOPES[row.role]?.includes(s)),
      };
    }
    if (!subject.userId) return undefined;
    const rows: { role: Role; superadmin: boolean }[] = await this.dataSource.query(
      'SELECT role, superadmin FROM users WHERE id = $1 AND tenant_id = $2 AND disabled = false',
      [subject.userId, subject.tenantId],
    );
    const row = rows[0];
    return row && { userId: subject.userId, role: row.role, superadmin: row.superadmin };
  }

  /**
   * Whether the tenant exists (any status): for other libs' admin checks. Inside a transaction,
   * pass its manager (embedded PostgreSQL runs one transaction at a time).
   */
  async tenantExists(tenantId: string, within: Queryable = this.dataSource): Promise<boolean> {
    const rows: unknown[] = await within.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
    return rows.length > 0;
  }

  /** Whether a user or an API key (any status) is of `tenantId`: for other libs' admin checks. */
  async inTenant(
    tenantId: string,
    kind: 'user' | 'apiKey',
    id: string,
    within: Queryable = this.dataSource,
  ): Promise<boolean> {
    const table = kind === 'user' ? 'users' : 'api_keys';
    const rows: unknown[] = await within.query(
      `SELECT 1 FROM ${table} WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    return rows.length > 0;
  }
}

/** A DataSource or a transaction's EntityManager. */
type Queryable = Pick<DataSource, 'query'>;

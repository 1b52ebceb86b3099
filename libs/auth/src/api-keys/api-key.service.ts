import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AppConfig, decodeCursor, NotFoundError, type Page, toPage } from '@parley/core';
import { newId } from '@parley/database';
import { IsNull, LessThan, type Repository } from 'typeorm';
import { MEMBER_GRANTABLE_SCOPES, type Role, ROLE_SCOPES, type Scope } from '../auth.constants';
import { ForbiddenError, InvalidApiKeyError } from '../auth.errors';
import { AuditService } from '../audit/audit.service';
import { ApiKeyEntity } from '../entities/api-key.entity';
import type { Principal } from '../principal';
import { AuthSecrets } from '../tokens/auth-secrets.service';
import { ApiKeyUsageTracker } from './api-key-usage.tracker';
import {
  hashApiKey,
  isWellFormedApiKey,
  lookupPrefix,
  newApiKeySecret,
  sameHash,
} from './api-key.secret';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

interface KeyRow {
  id: string;
  tenant_id: string;
  prefix: string;
  secret_hash: string;
  previous_prefix: string | null;
  previous_secret_hash: string | null;
  previous_valid_until: Date | null;
  scopes: Scope[];
  creator_role: Role;
}

export const toApiKeyView = (k: ApiKeyEntity): ApiKeyView => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  createdBy: k.createdBy,
  expiresAt: k.expiresAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  createdAt: k.createdAt.toISOString(),
});

@Injectable()
export class ApiKeyService {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly secrets: AuthSecrets,
    private readonly usage: ApiKeyUsageTracker,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Checked on every request, with no cache: a revoked key fails on its next use. The key acts
   * for its creator, read in the same query: a key whose creator is disabled or deleted does not
   * authenticate, and its scopes are cut to what the creator's current role allows.
   */
  async authenticate(key: string): Promise<Principal> {
    if (!isWellFormedApiKey(key)) throw new InvalidApiKeyError();
    const prefix = lookupPrefix(key);
    // Plain SQL: this runs on every request made with a key.
    const rows: KeyRow[] = await this.keys.query(
      `SELECT k.id, k.tenant_id, k.prefix, k.secret_hash, k.previous_prefix, k.previous_secret_hash,
              k.previous_valid_until, k.scopes, u.role AS creator_role
         FROM api_keys k JOIN users u ON u.id = k.created_by AND u.tenant_id = k.tenant_id
        WHERE (k.prefix = $1 OR k.previous_prefix = $1)
          AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now())
          AND u.disabled = false`,
      [prefix],
    );
    const row = rows[0];
    if (!row) throw new InvalidApiKeyError();
    const hash = hashApiKey(key, this.secrets.apiKeyPepper);
    const current = row.prefix === prefix && sameHash(row.secret_hash, hash);
    const previous =
      row.previous_prefix === prefix &&
      row.previous_valid_until !== null &&
      new Date(row.previous_valid_until) > new Date() &&
      sameHash(row.previous_secret_hash, hash);
    if (!current && !previous) throw new InvalidApiKeyError();
    this.usage.touch(row.id);
    return {
      kind: 'apiKey',
      tenantId: row.tenant_id,
      apiKeyId: row.id,
      scopes: row.scopes.filter((s) => ROLE_SCOPES[row.creator_role]?.includes(s)),
      superadmin: false,
    };
  }

  async create(
    principal: Principal,
    input: { name: string; scopes: Scope[]; expiresAt?: Date },
  ): Promise<ApiKeyView & { key: string }> {
    this.assertMayGrant(principal, input.scopes);
    const { key, prefix } = newApiKeySecret();
    const entity = this.keys.create({
      id: newId(),
      tenantId: principal.tenantId,
      createdBy: principal.userId ?? null,
      name: input.name,
      prefix,
      secretHash: hashApiKey(key, this.secrets.apiKeyPepper),
      scopes: [...new Set(input.scopes)],
      expiresAt: input.expiresAt ?? null,
    });
    await this.keys.insert(entity);
    const saved = await this.keys.findOneByOrFail({ id: entity.id });
    await this.audit.record('apikey.created', {
      tenantId: principal.tenantId,
      targetType: 'apiKey',
      targetId: saved.id,
      metadata: { scopes: saved.scopes, prefix },
    });
    return { ...toApiKeyView(saved), key };
  }

  /** Keys of the tenant; `createdBy` narrows to one user's own keys. */
  async list(
    tenantId: string,
    query: { cursor?: string; limit: number; createdBy?: string },
  ): Promise<Page<ApiKeyView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.keys.find({
      where: {
        tenantId,
        ...(query.createdBy ? { createdBy: query.createdBy } : {}),
        ...(after ? { id: LessThan(after) } : {}),
      },
      order: { id: 'DESC' },
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, toApiKeyView);
  }

  async revoke(tenantId: string, id: string, ownedBy?: string): Promise<void> {
    const key = await this.find(tenantId, id, ownedBy);
    if (!key.revokedAt) {
      await this.keys.update({ id: key.id, revokedAt: IsNull() }, { revokedAt: new Date() });
      await this.audit.record('apikey.revoked', {
        tenantId,
        targetType: 'apiKey',
        targetId: key.id,
      });
    }
  }

  /** A new secret; the old one keeps working for the configured grace period. */
  async rotate(
    tenantId: string,
    id: string,
    ownedBy?: string,
  ): Promise<ApiKeyView & { key: string }> {
    const existing = await this.find(tenantId, id, ownedBy);
    if (existing.revokedAt) throw new NotFoundError('API key');
    const old = await this.keys.findOneOrFail({
      where: { id },
      select: { id: true, prefix: true, secretHash: true },
    });
    const { key, prefix } = newApiKeySecret();
    const graceMs = this.config.security.apiKeys.rotationGraceSeconds * 1000;
    await this.keys.update(id, {
      prefix,
      secretHash: hashApiKey(key, this.secrets.apiKeyPepper),
      previousPrefix: old.prefix,
      previousSecretHash: old.secretHash,
      previousValidUntil: new Date(Date.now() + graceMs),
    });
    await this.audit.record('apikey.rotated', {
      tenantId,
      targetType: 'apiKey',
      targetId: id,
      metadata: { graceSeconds: graceMs / 1000 },
    });
    return { ...toApiKeyView(await this.keys.findOneByOrFail({ id })), key };
  }

  private async find(tenantId: string, id: string, ownedBy?: string): Promise<ApiKeyEntity> {
    const key = await this.keys.findOne({
      where: { id, tenantId, ...(ownedBy ? { createdBy: ownedBy } : {}) },
    });
    if (!key) throw new NotFoundError('API key');
    return key;
  }

  private assertMayGrant(principal: Principal, scopes: Scope[]): void {
    const grantable: readonly Scope[] =
      principal.kind === 'apiKey'
        ? principal.scopes
        : principal.role === 'admin'
          ? principal.scopes
          : MEMBER_GRANTABLE_SCOPES;
    const denied = scopes.filter((s) => !grantable.includes(s));
    if (denied.length > 0)
      throw new ForbiddenError(
        `You may not grant the scope${denied.length > 1 ? 's' : ''} ${denied.join(', ')}.`,
      );
  }
}

import { BaseEntity } from '@parley/database';
import { Column, Entity } from 'typeorm';
import type { Scope } from '../auth.constants';

@Entity('api_keys')
export class ApiKeyEntity extends BaseEntity {
  @Column('uuid', { name: 'tenant_id' })
  tenantId: string;

  @Column('uuid', { name: 'created_by', nullable: true })
  createdBy: string | null;

  @Column('text')
  name: string;

  /** The lookup prefix, e.g. `pk_AbC123xy`; shown in lists so people can tell keys apart. */
  @Column('text')
  prefix: string;

  /** HMAC-SHA-256 of the whole key with the server's pepper. */
  @Column('text', { name: 'secret_hash', select: false })
  secretHash: string;

  @Column('text', { name: 'previous_prefix', nullable: true })
  previousPrefix: string | null;

  @Column('text', { name: 'previous_secret_hash', nullable: true, select: false })
  previousSecretHash: string | null;

  @Column('timestamptz', { name: 'previous_valid_until', nullable: true })
  previousValidUntil: Date | null;

  @Column('text', { array: true })
  scopes: Scope[];

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}

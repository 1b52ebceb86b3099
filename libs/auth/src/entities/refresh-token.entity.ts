import { BaseEntity } from '@parley/database';
import { Column, Entity } from 'typeorm';

/** One refresh token of a family; a family is one login session, rotated on every use. */
@Entity('refresh_tokens')
export class RefreshTokenEntity extends BaseEntity {
  @Column('uuid', { name: 'tenant_id' })
  tenantId: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('uuid', { name: 'family_id' })
  familyId: string;

  /** SHA-256 of the token; the token itself is never stored. */
  @Column('text', { name: 'token_hash' })
  tokenHash: string;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'rotated_at', nullable: true })
  rotatedAt: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}

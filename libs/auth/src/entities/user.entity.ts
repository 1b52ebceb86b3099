import { BaseEntity } from '@parley/database';
import { Column, Entity } from 'typeorm';
import type { Role } from '../auth.constants';

@Entity('users')
export class UserEntity extends BaseEntity {
  @Column('uuid', { name: 'tenant_id' })
  tenantId: string;

  @Column('text')
  email: string;

  @Column('text', { name: 'display_name' })
  displayName: string;

  @Column('text', { name: 'password_hash', select: false })
  passwordHash: string;

  @Column('text')
  role: Role;

  @Column('boolean', { default: false })
  superadmin: boolean;

  @Column('boolean', { default: false })
  disabled: boolean;

  /** Access tokens issued before this instant are refused (password, role or status changed). */
  @Column('timestamptz', { name: 'tokens_valid_after' })
  tokensValidAfter: Date;

  @Column('timestamptz', { name: 'last_login_at', nullable: true })
  lastLoginAt: Date | null;
}

import { BaseEntity } from '@parley/database';
import { Column, Entity } from 'typeorm';

@Entity('tenants')
export class TenantEntity extends BaseEntity {
  /** The name used as `tenant` at login: lower-case letters, digits and dashes. */
  @Column('text')
  slug: string;

  @Column('text', { name: 'display_name' })
  displayName: string;
}

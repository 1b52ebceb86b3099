import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who set a tenant's price override. A tenant admin's override can only raise the price in
 * force (pricing.yaml or the unknown-model default), and is floored at it when prices are
 * looked up; only a superadmin's may lower it. Overrides that exist already count as a tenant
 * admin's, so any below the configured price stop undercutting it.
 */
export class PriceOverrideFloor1763900018000 implements MigrationInterface {
  name = 'PriceOverrideFloor1763900018000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE model_prices ADD COLUMN set_by_superadmin boolean NOT NULL DEFAULT false',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE model_prices DROP COLUMN set_by_superadmin');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The budget windows a tenant's time-zone change keeps open: per period (`day`, `month`), the
 * window that was open in the old zone and when it now ends, e.g.
 * `{"day": {"id": "day:2026-11-23", "endsAt": "2026-11-24T00:00:00.000Z"}}`. Until then that
 * window, already partly or wholly spent, stays in force instead of a fresh one of the new zone.
 */
export class BudgetWindowCarry1763900019000 implements MigrationInterface {
  name = 'BudgetWindowCarry1763900019000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE cost_settings ADD COLUMN carried_windows jsonb NOT NULL DEFAULT '{}'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE cost_settings DROP COLUMN carried_windows');
  }
}

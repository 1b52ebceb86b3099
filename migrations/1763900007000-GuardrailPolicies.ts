import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-tenant overrides of the guardrail policy in config/guardrails.yaml. */
export class GuardrailPolicies1763900007000 implements MigrationInterface {
  name = 'GuardrailPolicies1763900007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE guardrail_policies (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        policy jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE guardrail_policies');
  }
}

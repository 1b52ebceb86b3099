import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tools a tenant defines for its agents (HTTP calls to its own endpoints), and the hosts those
 * calls may reach. Secret headers are stored sealed (AES-256-GCM, MESSAGE_ENCRYPTION_KEYS).
 */
export class Tools1763900011000 implements MigrationInterface {
  name = 'Tools1763900011000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tools (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL,
        parameters jsonb NOT NULL,
        kind text NOT NULL CHECK (kind IN ('http')),
        http jsonb NOT NULL,
        secret_headers text,
        secret_header_names text[] NOT NULL DEFAULT '{}',
        risk text NOT NULL DEFAULT 'low' CHECK (risk IN ('low', 'high')),
        idempotent boolean NOT NULL DEFAULT false,
        timeout_ms integer NOT NULL,
        max_response_bytes integer NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      )`);
    await q.query(`
      CREATE TABLE tool_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        allowed_hosts text[] NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tool_settings');
    await q.query('DROP TABLE tools');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who may read, write and manage a knowledge base (issue #24, item 5).
 * - `owner_user_id`: the user who created it (for an API key, the key's creator); manages it.
 * - `access`: what everyone else in the tenant may do: `private` (nothing), `tenant:read`
 *   (read and search), `tenant:write` (also add, re-ingest and delete documents).
 * - `kb_grants`: explicit per-user `read`, `write` or `manage`.
 * - `kb_settings`: the tenant's default `access` for new knowledge bases.
 * Tenant admins (and superadmins) may do everything in their tenant.
 *
 * Existing knowledge bases never recorded their creator: they become `tenant:read` with no
 * owner, so everyone keeps reading them and only admins (or users they grant) change them.
 */
export class KnowledgeBaseAccess1763900020000 implements MigrationInterface {
  name = 'KnowledgeBaseAccess1763900020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE knowledge_bases
        ADD COLUMN owner_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        ADD COLUMN access text NOT NULL DEFAULT 'tenant:read'
          CHECK (access IN ('private', 'tenant:read', 'tenant:write'))`);
    await q.query(`
      CREATE TABLE kb_grants (
        knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        permission text NOT NULL CHECK (permission IN ('read', 'write', 'manage')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (knowledge_base_id, user_id)
      )`);
    await q.query(`CREATE INDEX kb_grants_user ON kb_grants (user_id)`);
    await q.query(`
      CREATE TABLE kb_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        default_access text NOT NULL
          CHECK (default_access IN ('private', 'tenant:read', 'tenant:write')),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE kb_settings');
    await q.query('DROP TABLE kb_grants');
    await q.query('ALTER TABLE knowledge_bases DROP COLUMN access, DROP COLUMN owner_user_id');
  }
}

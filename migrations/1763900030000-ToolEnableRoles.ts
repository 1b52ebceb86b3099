import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who may enable a tool on a conversation: the roles in `enable_roles` (admins always). Existing
 * tools, like new ones that do not say, are enabled by admins only from now on; conversations
 * that already have them keep them.
 */
export class ToolEnableRoles1763900030000 implements MigrationInterface {
  name = 'ToolEnableRoles1763900030000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE tools ADD COLUMN enable_roles text[] NOT NULL DEFAULT '{admin}'
         CHECK (enable_roles <@ ARRAY['admin', 'member']::text[] AND 'admin' = ANY (enable_roles))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tools DROP COLUMN enable_roles');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Approvals of high-risk tool calls: an agent answer that waits for a person is stored with
 * status `awaiting_approval`, its loop state (sealed) in agent_pauses, and one row per call
 * to decide in tool_approvals.
 */
export class ToolApprovals1763900013000 implements MigrationInterface {
  name = 'ToolApprovals1763900013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_status_check');
    await q.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_status_check
         CHECK (status IN ('complete', 'aborted', 'failed', 'awaiting_approval'))`,
    );
    await q.query(`
      CREATE TABLE agent_pauses (
        message_id uuid PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,
        state text NOT NULL,
        status text NOT NULL CHECK (status IN ('waiting', 'resuming')),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE tool_approvals (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        call_id text NOT NULL,
        tool_name text NOT NULL,
        arguments text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
        reason text,
        decided_by_user_id uuid,
        decided_by_api_key_id uuid,
        decided_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (message_id, call_id)
      )`);
    await q.query(
      `CREATE INDEX tool_approvals_conversation ON tool_approvals (conversation_id, call_id, created_at DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tool_approvals');
    await q.query('DROP TABLE agent_pauses');
    await q.query(`DELETE FROM messages WHERE status = 'awaiting_approval'`);
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_status_check');
    await q.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_status_check
         CHECK (status IN ('complete', 'aborted', 'failed'))`,
    );
  }
}

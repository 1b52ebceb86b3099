import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Conversations and their messages. */
export class Conversations1763900002000 implements MigrationInterface {
  name = 'Conversations1763900002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        owner_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        owner_api_key_id uuid REFERENCES api_keys(id) ON DELETE SET NULL,
        title text,
        model text NOT NULL,
        prompt_template text,
        knowledge_base_ids uuid[] NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX conversations_tenant ON conversations (tenant_id, id DESC) WHERE deleted_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content text NOT NULL,
        status text NOT NULL CHECK (status IN ('complete', 'aborted', 'failed')),
        model text,
        provider text,
        prompt_tokens integer NOT NULL DEFAULT 0,
        completion_tokens integer NOT NULL DEFAULT 0,
        cost_usd numeric(20, 9) NOT NULL DEFAULT 0,
        latency_ms integer,
        first_token_ms integer,
        finish_reason text,
        citations jsonb NOT NULL DEFAULT '[]',
        guardrail_findings jsonb NOT NULL DEFAULT '[]',
        prompt_template text,
        prompt_template_version text,
        request_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX messages_conversation ON messages (conversation_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE messages');
    await q.query('DROP TABLE conversations');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Speech jobs: what was asked (the text sealed like message content, audio by storage key),
 * where the job stands, and its result. BullMQ runs them; these rows are what tenants see.
 */
export class AudioJobs1763900014000 implements MigrationInterface {
  name = 'AudioJobs1763900014000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audio_jobs (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        owner_user_id uuid,
        owner_api_key_id uuid,
        kind text NOT NULL CHECK (kind IN ('speech', 'transcription', 'voice')),
        status text NOT NULL CHECK (status IN ('queued', 'active', 'completed', 'failed')),
        progress integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        error jsonb,
        options jsonb NOT NULL DEFAULT '{}',
        text text,
        input_key text,
        output_key text,
        result jsonb,
        conversation_id uuid REFERENCES conversations(id) ON DELETE SET NULL,
        idempotency_key text,
        request_hash text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        expires_at timestamptz,
        UNIQUE (tenant_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX audio_jobs_tenant ON audio_jobs (tenant_id, id DESC)`);
    await q.query(
      `CREATE INDEX audio_jobs_expiry ON audio_jobs (expires_at) WHERE expires_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audio_jobs');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox of queued work: a row that asks for a job is committed in the same
 * transaction as this intent, and a relay hands it to BullMQ (with a deterministic job id)
 * afterwards, so "accepted" never means "lost because the queue was down for a moment".
 */
export class JobOutbox1763900015000 implements MigrationInterface {
  name = 'JobOutbox1763900015000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_outbox (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('job', 'flow')),
        spec jsonb NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX job_outbox_due ON job_outbox (next_attempt_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_outbox`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Voice sessions: an answer the caller talked over is stored as `interrupted`, holding what
 * was actually spoken before the interruption.
 */
export class InterruptedMessages1763900016000 implements MigrationInterface {
  name = 'InterruptedMessages1763900016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_status_check');
    await q.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_status_check
         CHECK (status IN ('complete', 'aborted', 'failed', 'awaiting_approval', 'interrupted'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE messages SET status = 'aborted' WHERE status = 'interrupted'`);
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_status_check');
    await q.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_status_check
         CHECK (status IN ('complete', 'aborted', 'failed', 'awaiting_approval'))`,
    );
  }
}

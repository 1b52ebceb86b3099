import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tools a conversation enables, and the execution history (steps) of each agent answer. */
export class AgentSteps1763900012000 implements MigrationInterface {
  name = 'AgentSteps1763900012000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE conversations ADD COLUMN tools text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE messages ADD COLUMN steps jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP COLUMN steps');
    await q.query('ALTER TABLE conversations DROP COLUMN tools');
  }
}

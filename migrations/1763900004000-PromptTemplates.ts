import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Conversations fill a prompt template's variables; messages record the A/B variant used. */
export class PromptTemplates1763900004000 implements MigrationInterface {
  name = 'PromptTemplates1763900004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE conversations ADD COLUMN template_variables jsonb NOT NULL DEFAULT '{}'`,
    );
    await q.query(`ALTER TABLE messages ADD COLUMN prompt_variant text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP COLUMN prompt_variant');
    await q.query('ALTER TABLE conversations DROP COLUMN template_variables');
  }
}

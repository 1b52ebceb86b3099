import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Marks answers served from the response cache. */
export class CachedMessages1763900005000 implements MigrationInterface {
  name = 'CachedMessages1763900005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN cached boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP COLUMN cached');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Installation-wide settings (key → JSON value), e.g. the bootstrap marker. */
export class SystemSettings1763900000000 implements MigrationInterface {
  name = 'SystemSettings1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE system_settings (
        key text PRIMARY KEY CHECK (key ~ '^[a-z0-9_.:-]{1,128}$'),
        value jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE system_settings');
  }
}

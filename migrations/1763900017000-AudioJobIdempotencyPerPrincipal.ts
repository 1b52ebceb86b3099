import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An audio job's Idempotency-Key belongs to the caller that sent it (the user, or the API
 * key), not to the whole tenant: two callers of one tenant may use the same key, and neither
 * is ever answered with the other's job. A caller is a user or an API key, so one of the two
 * owner columns is null: the index treats nulls as equal.
 */
export class AudioJobIdempotencyPerPrincipal1763900017000 implements MigrationInterface {
  name = 'AudioJobIdempotencyPerPrincipal1763900017000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE audio_jobs DROP CONSTRAINT audio_jobs_tenant_id_idempotency_key_key',
    );
    await q.query(
      `CREATE UNIQUE INDEX audio_jobs_idempotency
         ON audio_jobs (tenant_id, owner_user_id, owner_api_key_id, idempotency_key) NULLS NOT DISTINCT
         WHERE idempotency_key IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX audio_jobs_idempotency');
    // Keys two callers of a tenant both used: the oldest job keeps it, the others forget it.
    await q.query(
      `UPDATE audio_jobs a SET idempotency_key = NULL
        WHERE a.idempotency_key IS NOT NULL AND EXISTS (
          SELECT 1 FROM audio_jobs b
           WHERE b.tenant_id = a.tenant_id AND b.idempotency_key = a.idempotency_key AND b.id < a.id)`,
    );
    await q.query(
      'ALTER TABLE audio_jobs ADD CONSTRAINT audio_jobs_tenant_id_idempotency_key_key UNIQUE (tenant_id, idempotency_key)',
    );
  }
}

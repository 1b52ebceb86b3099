import { Injectable, Logger } from '@nestjs/common';
import {
  type JobProcessor,
  type QueueJob,
  QueueProcessor,
  type QueueResults,
  outboxHoldsJobFor,
} from '@parley/queue';
import { AppConfig } from '@parley/core';
import { DataSource } from 'typeorm';
import { AudioStorage } from '../ports/audio-storage.port';

/** Rows per pass: a long backlog is cleared over several runs, never in one huge statement. */
const BATCH = 500;

/**
 * The repeatable `audio.retention` job: deletes the audio of jobs past their expiry
 * (AUDIO_RETENTION_HOURS after they completed, AUDIO_FAILED_RETENTION_HOURS after they failed),
 * then their rows. Files go first, so a crash in between leaves a row that the next run
 * deletes again, never a file that nothing points to.
 */
@Injectable()
@QueueProcessor('audio.retention')
export class RetentionProcessor implements JobProcessor<'audio.retention'> {
  private readonly logger = new Logger('AudioRetention');

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: AudioStorage,
    private readonly config: AppConfig,
  ) {}

  async process(_job: QueueJob<'audio.retention'>): Promise<QueueResults['audio.retention']> {
    await this.failLost();
    let deleted = 0;
    for (;;) {
      const rows: { id: string; input_key: string | null; output_key: string | null }[] =
        await this.dataSource.query(
          `SELECT id, input_key, output_key FROM audio_jobs
            WHERE expires_at < now() ORDER BY expires_at LIMIT $1`,
          [BATCH],
        );
      if (rows.length === 0) break;
      for (const row of rows)
        for (const key of [row.input_key, row.output_key]) if (key) await this.storage.delete(key);
      await this.dataSource.query(`DELETE FROM audio_jobs WHERE id = ANY($1::uuid[])`, [
        rows.map((r) => r.id),
      ]);
      deleted += rows.length;
      if (rows.length < BATCH) break;
    }
    if (deleted > 0) this.logger.log(`deleted ${deleted} expired audio jobs and their files`);
    return { deleted };
  }

  /**
   * Every job reaches a final state within a bound: one queued or active with no sign of life
   * (claim, progress, step, retry) for AUDIO_LOST_AFTER_MINUTES lost its worker and its
   * retries (a job BullMQ gave up on as stalled, or one the queue backend lost) and is failed
   * with JOB_LOST. A job still waiting in the outbox (the queue was down) is not lost.
   */
  async failLost(): Promise<number> {
    const { audio } = this.config;
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH lost AS (
         UPDATE audio_jobs j SET status = 'failed', finished_at = now(), updated_at = now(),
                error = jsonb_build_object('code', 'JOB_LOST', 'message',
                  'The job stopped making progress (its worker was lost and its retries ran out); submit it again.'),
                expires_at = now() + make_interval(hours => $2::int)
          WHERE status IN ('queued', 'active')
            AND updated_at < now() - make_interval(mins => $1::int)
            AND NOT ${outboxHoldsJobFor('j.id')}
          RETURNING id
       ) SELECT id FROM lost`,
      [audio.lostAfterMinutes, audio.failedRetentionHours],
    );
    if (rows.length > 0) this.logger.warn(`failed ${rows.length} lost audio jobs (JOB_LOST)`);
    return rows.length;
  }
}

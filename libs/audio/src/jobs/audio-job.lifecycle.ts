import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, KeyRingCipher, AppError } from '@parley/core';
import type { AlongsideWrites } from '@parley/cost';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { JobTimedOutError, type QueueJob, type QueueName, whyStopped } from '@parley/queue';
import { ProviderUnavailableError } from '../audio.errors';
import type { AudioJobRow } from './audio-jobs.service';
import { type ResultOwner, sealResult } from './audio-result-seal';

type AudioQueue = Extract<QueueName, 'audio.tts' | 'audio.stt' | 'audio.voice'>;

/**
 * Where an audio job's row stands while BullMQ runs it: claimed as active (with the attempt),
 * progress, completed (with its result, in the same statement as its cost settlement), or
 * failed with a visible reason. Invalid input and a missing engine fail at once (BullMQ's
 * UnrecoverableError: no retry); anything else is retried with backoff, and the row says
 * `failed` only after the last attempt.
 */
@Injectable()
export class AudioJobLifecycle {
  private readonly logger = new Logger('AudioJobs');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly cipher: KeyRingCipher,
  ) {}

  /**
   * The skeleton of every audio processor: claims the row (a repeated delivery of a finished
   * job does nothing), reports `startAt` progress, runs the step, and records a failure the way
   * BullMQ should treat it (fail). The step completes the row itself, with its settlement.
   */
  async run<Q extends AudioQueue>(
    job: QueueJob<Q>,
    signal: AbortSignal,
    step: (row: AudioJobRow) => Promise<void>,
    options: { startAt?: number } = {},
  ): Promise<{ audioJobId: string; status: 'completed' }> {
    const { audioJobId } = job.data;
    const row = await this.claim(job);
    if (!row) return { audioJobId, status: 'completed' };
    try {
      if (options.startAt !== undefined) await this.progress(job, options.startAt);
      await step(row);
      return { audioJobId, status: 'completed' };
    } catch (error) {
      return this.fail(job, whyStopped(signal, error));
    }
  }

  /** The row, now active; undefined when it has already finished (a repeated delivery). */
  async claim(job: QueueJob<AudioQueue>): Promise<AudioJobRow | undefined> {
    const [row]: AudioJobRow[] = await this.dataSource.query(
      `WITH c AS (UPDATE audio_jobs SET status = 'active', attempts = $2, error = NULL,
                   started_at = COALESCE(started_at, now()), updated_at = now()
                   WHERE id = $1 AND status IN ('queued', 'active') RETURNING *) SELECT * FROM c`,
      [job.data.audioJobId, job.attemptsMade + 1],
    );
    return row;
  }

  async progress(job: QueueJob<AudioQueue>, percent: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE audio_jobs SET progress = $2, updated_at = now() WHERE id = $1 AND status = 'active'`,
      [job.data.audioJobId, percent],
    );
    await job.updateProgress(percent);
  }

  /** The writes that complete a job, to commit with its cost settlement. */
  completeWrites(
    row: ResultOwner,
    result: Record<string, unknown>,
    outputKey?: string,
  ): AlongsideWrites {
    return {
      ctes: [
        `audio_done AS (UPDATE audio_jobs SET status = 'completed', progress = 100,
           result = COALESCE(result, '{}'::jsonb) || $1::jsonb,
           output_key = COALESCE($2, output_key), finished_at = now(), updated_at = now(),
           expires_at = now() + make_interval(hours => $3::int) WHERE id = $4 AND status = 'active')`,
      ],
      params: [
        JSON.stringify(sealResult(this.cipher, row, result)),
        outputKey ?? null,
        this.config.audio.retentionHours,
        row.id,
      ],
    };
  }

  /**
   * A voice turn's finished step: its part of the result merged in, the job still active
   * (the next step is already queued behind it).
   */
  stepWrites(row: ResultOwner, part: Record<string, unknown>, progress: number): AlongsideWrites {
    return {
      ctes: [
        `audio_step AS (UPDATE audio_jobs SET result = COALESCE(result, '{}'::jsonb) || $1::jsonb,
           progress = $2, updated_at = now() WHERE id = $3)`,
      ],
      params: [JSON.stringify(sealResult(this.cipher, row, part)), progress, row.id],
    };
  }

  /** Runs writes on their own (a step that costs nothing). */
  async commit(writes: AlongsideWrites): Promise<void> {
    await this.dataSource.query(`WITH ${writes.ctes.join(',\n')} SELECT 1`, writes.params);
  }

  /** Records the failure and rethrows it the way BullMQ should treat it. */
  async fail(job: QueueJob<AudioQueue>, error: unknown): Promise<never> {
    const final = isFinal(error);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const code = error instanceof AppError ? error.code : 'ENGINE_FAILED';
    const message = (error as Error).message;
    if (final || lastAttempt) {
      await this.dataSource.query(
        `UPDATE audio_jobs SET status = 'failed', error = $2, finished_at = now(),
                updated_at = now(), expires_at = now() + make_interval(hours => $3::int)
          WHERE id = $1`,
        [
          job.data.audioJobId,
          JSON.stringify({ code, message }),
          this.config.audio.failedRetentionHours,
        ],
      );
    } else {
      // Waits for its retry: queued again, with what went wrong this time.
      await this.dataSource.query(
        `UPDATE audio_jobs SET status = 'queued', error = $2, updated_at = now() WHERE id = $1`,
        [job.data.audioJobId, JSON.stringify({ code, message })],
      );
      this.logger.warn(
        `audio job ${job.data.audioJobId} attempt ${job.attemptsMade + 1}: ${message}`,
      );
    }
    throw final ? new UnrecoverableError(`${code}: ${message}`) : error;
  }
}

/** Bad input, a refusal or a missing engine: trying again would fail the same way. */
function isFinal(error: unknown): boolean {
  if (error instanceof ProviderUnavailableError || error instanceof JobTimedOutError) return true;
  return error instanceof AppError && error.status < 500;
}

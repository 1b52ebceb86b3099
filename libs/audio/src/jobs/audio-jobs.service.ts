import { Injectable } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { AppConfig, KeyRingCipher, NotFoundError } from '@parley/core';
import { AudioIdempotencyKeyReusedError } from '../audio.errors';
import { newId } from '@parley/database';
import { JobOutbox, type OutboxEntry } from '@parley/queue';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AudioStorage } from '../ports/audio-storage.port';
import { openResult } from './audio-result-seal';

export type AudioJobKind = 'speech' | 'transcription' | 'voice';
export type AudioJobStatus = 'queued' | 'active' | 'completed' | 'failed';

export interface AudioJobRow {
  id: string;
  tenant_id: string;
  owner_user_id: string | null;
  owner_api_key_id: string | null;
  kind: AudioJobKind;
  status: AudioJobStatus;
  progress: number;
  attempts: number;
  error: { code: string; message: string } | null;
  options: Record<string, unknown>;
  text: string | null;
  input_key: string | null;
  output_key: string | null;
  result: Record<string, unknown> | null;
  conversation_id: string | null;
  request_hash: string | null;
  created_at: string;
  finished_at: string | null;
  expires_at: string | null;
}

export interface AudioJobView {
  id: string;
  kind: AudioJobKind;
  status: AudioJobStatus;
  progress: number;
  attempts: number;
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
  conversationId?: string;
  createdAt: string;
  finishedAt: string | null;
  /** When the job and its audio will be deleted. */
  expiresAt: string | null;
}

/** What a new job needs: its kind, options, and (sealed) text or stored input audio. */
export interface NewAudioJob {
  kind: AudioJobKind;
  options: Record<string, unknown>;
  text?: string;
  input?: { bytes: Buffer; extension: string; contentType: string };
  conversationId?: string;
}

/**
 * Speech jobs as tenants see them: a row per job (its BullMQ job has the same id), created
 * with its input stored first, then the row and its queue intent in one transaction (the
 * outbox), so a failure on the way leaves nothing behind and an accepted job always runs;
 * an Idempotency-Key names the job, so a retried POST returns the job it already made. A key
 * is its caller's (the user, or the API key): another caller of the tenant with the same key
 * gets a job of its own, never this one.
 */
@Injectable()
export class AudioJobsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: JobOutbox,
    private readonly storage: AudioStorage,
    private readonly cipher: KeyRingCipher,
    private readonly config: AppConfig,
  ) {}

  async create(
    principal: Principal,
    job: NewAudioJob,
    idempotencyKey?: string,
  ): Promise<{ job: AudioJobView; replayed: boolean }> {
    const hash = requestHash(job);
    if (idempotencyKey) {
      const existing = await this.byKey(principal, idempotencyKey);
      if (existing) return { job: this.replay(existing, hash), replayed: true };
    }
    const id = newId();
    const inputKey = job.input ? `${principal.tenantId}/${id}/input.${job.input.extension}` : null;
    if (job.input) await this.storage.put(inputKey!, job.input.bytes, job.input.contentType);
    // The row and its queue intent commit together (the outbox): once accepted, the job runs,
    // even if the queue backend is down at this moment.
    let staged: string[] = [];
    let row: AudioJobRow | undefined;
    try {
      row = await this.dataSource.transaction(async (m) => {
        const [inserted]: AudioJobRow[] = await m.query(
          `INSERT INTO audio_jobs (id, tenant_id, owner_user_id, owner_api_key_id, kind, status, options,
                                   text, input_key, conversation_id, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11)
           ON CONFLICT (tenant_id, owner_user_id, owner_api_key_id, idempotency_key)
             WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING *`,
          [
            id,
            principal.tenantId,
            principal.userId ?? null,
            principal.apiKeyId ?? null,
            job.kind,
            JSON.stringify(job.options),
            job.text === undefined
              ? null
              : this.cipher.seal(job.text, { tenantId: principal.tenantId, id }),
            inputKey,
            job.conversationId ?? null,
            idempotencyKey ?? null,
            hash,
          ],
        );
        if (inserted) staged = [await this.outbox.stage(m, this.queueEntry(job.kind, id))];
        return inserted;
      });
    } catch (error) {
      // Nothing was committed: the stored input has no job.
      if (inputKey) await this.storage.delete(inputKey).catch(() => undefined);
      throw error;
    }
    if (!row) {
      // The same key raced us: theirs stands.
      if (inputKey) await this.storage.delete(inputKey);
      const existing = await this.byKey(principal, idempotencyKey!);
      return { job: this.replay(existing!, hash), replayed: true };
    }
    // Usually queued right here; if not, the outbox relay queues it shortly.
    await this.outbox.dispatch(staged);
    return { job: toView(row, this.cipher), replayed: false };
  }

  /**
   * One BullMQ job per speech job (same id); a voice turn is a flow of three, each step run
   * once the one before it completed: transcription → chat → speech.
   */
  private queueEntry(kind: AudioJobKind, id: string): OutboxEntry {
    const { audio } = this.config;
    const opts = (jobId: string) => ({
      jobId,
      attempts: audio.attempts,
      backoff: { type: 'exponential' as const, delay: 1000 },
      removeOnComplete: { age: audio.retentionHours * 3600 },
      removeOnFail: { age: audio.failedRetentionHours * 3600 },
    });
    const data = { audioJobId: id };
    if (kind !== 'voice')
      return {
        kind: 'job',
        queue: kind === 'speech' ? 'audio.tts' : 'audio.stt',
        data,
        options: opts(id),
      };
    const failParent = { failParentOnFailure: true };
    return {
      kind: 'flow',
      flow: {
        name: 'voice.speech',
        queueName: 'audio.tts',
        data,
        opts: opts(`${id}-speech`),
        children: [
          {
            name: 'voice.chat',
            queueName: 'audio.voice',
            data,
            opts: { ...opts(`${id}-chat`), ...failParent },
            children: [
              {
                name: 'voice.transcribe',
                queueName: 'audio.stt',
                data,
                opts: { ...opts(`${id}-transcribe`), ...failParent },
              },
            ],
          },
        ],
      },
    };
  }

  async row(principal: Principal, id: string): Promise<AudioJobRow> {
    const owner =
      principal.kind === 'user' && principal.role === 'admin'
        ? ''
        : principal.kind === 'user'
          ? 'AND owner_user_id = $3'
          : 'AND owner_api_key_id = $3';
    const params: unknown[] = [id, principal.tenantId];
    if (owner) params.push(principal.kind === 'user' ? principal.userId : principal.apiKeyId);
    const [row]: AudioJobRow[] = await this.dataSource.query(
      `SELECT * FROM audio_jobs WHERE id = $1 AND tenant_id = $2 ${owner}`,
      params,
    );
    if (!row) throw new NotFoundError('Audio job');
    return row;
  }

  async get(principal: Principal, id: string): Promise<AudioJobView> {
    return toView(await this.row(principal, id), this.cipher);
  }

  /**
   * How a POST answers: the job as queued (202), or with `wait` the job once it finished
   * (200), or as it stands when the wait ran out (202).
   */
  async respond(
    principal: Principal,
    job: AudioJobView,
    wait: number | undefined,
  ): Promise<{ status: 200 | 202; job: AudioJobView }> {
    if (!wait) return { status: 202, job };
    const view = await this.wait(principal, job.id, wait);
    const finished = view.status === 'completed' || view.status === 'failed';
    return { status: finished ? 200 : 202, job: view };
  }

  /** The job once it has finished, or as it stands after `seconds`. */
  async wait(principal: Principal, id: string, seconds: number): Promise<AudioJobView> {
    const until = Date.now() + Math.min(seconds, this.config.audio.maxWaitSeconds) * 1000;
    for (;;) {
      const view = await this.get(principal, id);
      if (view.status === 'completed' || view.status === 'failed' || Date.now() >= until)
        return view;
      await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, until - Date.now()))));
    }
  }

  /** The caller's own job with this key: a key is the caller's (user or API key), not the tenant's. */
  private async byKey(principal: Principal, key: string): Promise<AudioJobRow | undefined> {
    const [row]: AudioJobRow[] = await this.dataSource.query(
      `SELECT * FROM audio_jobs
        WHERE tenant_id = $1 AND idempotency_key = $2
          AND owner_user_id IS NOT DISTINCT FROM $3 AND owner_api_key_id IS NOT DISTINCT FROM $4`,
      [principal.tenantId, key, principal.userId ?? null, principal.apiKeyId ?? null],
    );
    return row;
  }

  private replay(row: AudioJobRow, hash: string): AudioJobView {
    if (row.request_hash !== hash) throw new AudioIdempotencyKeyReusedError();
    return toView(row, this.cipher);
  }
}

/** What identifies a request for idempotency: its kind, options, text and audio bytes. */
function requestHash(job: NewAudioJob): string {
  const h = createHash('sha256');
  h.update(job.kind)
    .update(JSON.stringify(job.options))
    .update(job.text ?? '');
  if (job.input) h.update(job.input.bytes);
  if (job.conversationId) h.update(job.conversationId);
  return h.digest('hex');
}

const iso = (v: string | null) => (v ? new Date(v).toISOString() : null);

/** The job as the API shows it, its result's texts unsealed. */
export function toView(row: AudioJobRow, cipher: KeyRingCipher): AudioJobView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    progress: row.progress,
    attempts: row.attempts,
    error: row.error,
    result: openResult(cipher, row, row.result),
    ...(row.conversation_id ? { conversationId: row.conversation_id } : {}),
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: iso(row.finished_at),
    expiresAt: iso(row.expires_at),
  };
}

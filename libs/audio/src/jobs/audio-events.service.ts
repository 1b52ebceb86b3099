import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ownerKey, SocketRegistry } from '@parley/auth';
import { KeyRingCipher } from '@parley/core';
import { QueueService } from '@parley/queue';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { type AudioJobRow, toView } from './audio-jobs.service';

const AUDIO_QUEUES = ['audio.tts', 'audio.stt', 'audio.voice'] as const;

/**
 * Pushes audio job events to their owner's WebSockets: `audio.job.progress`,
 * `audio.job.completed` and `audio.job.failed`, with the job as GET /v1/audio/jobs/:id shows
 * it. Every api instance listens to BullMQ's queue events, so the owner hears of a job
 * whichever worker ran it and whichever instance their socket is on; the job's row decides
 * what to say (a voice turn's inner steps are progress, its last one completion).
 */
@Injectable()
export class AudioEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger('AudioEvents');
  /** What was last pushed per job, so a completion is announced once. */
  private readonly announced = new LRUCache<string, string>({ max: 10_000 });

  constructor(
    private readonly queues: QueueService,
    private readonly sockets: SocketRegistry,
    private readonly dataSource: DataSource,
    private readonly cipher: KeyRingCipher,
  ) {}

  onApplicationBootstrap(): void {
    // Queue events cost a reader per queue (a poll every 200 ms on PGlite): only once a socket
    // has connected to this process is there anyone to tell.
    this.sockets.onFirstSocket(() => this.listen());
  }

  private listen(): void {
    for (const name of AUDIO_QUEUES) {
      const events = this.queues.events(name);
      for (const event of ['active', 'progress', 'completed', 'failed'] as const)
        events.on(event, ({ jobId }: { jobId: string }) => {
          void this.announce(jobId).catch((error: Error) =>
            this.logger.warn(`could not announce audio job ${jobId}: ${error.message}`),
          );
        });
    }
  }

  private async announce(bullJobId: string): Promise<void> {
    // A voice turn's steps are <id>-transcribe, <id>-chat and <id>-speech.
    const id = bullJobId.replace(/-(transcribe|chat|speech)$/, '');
    const [row]: AudioJobRow[] = await this.dataSource.query(
      `SELECT * FROM audio_jobs WHERE id = $1`,
      [id],
    );
    if (!row) return;
    const event =
      row.status === 'completed'
        ? 'audio.job.completed'
        : row.status === 'failed'
          ? 'audio.job.failed'
          : 'audio.job.progress';
    const said = `${event}:${row.progress}`;
    if (this.announced.get(id) === said) return;
    this.announced.set(id, said);
    this.sockets.push(
      ownerKey({
        tenantId: row.tenant_id,
        userId: row.owner_user_id ?? undefined,
        apiKeyId: row.owner_api_key_id ?? undefined,
      }),
      event,
      { job: toView(row, this.cipher) },
    );
  }
}

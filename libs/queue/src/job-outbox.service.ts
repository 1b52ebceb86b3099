import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { newId } from '@parley/database';
import type { FlowJob, JobsOptions } from 'bullmq';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueueName, QueuePayloads } from './queue.definitions';
import { QueueService } from './queue.service';

/** Queued work as it waits in the outbox: one job, or a flow of jobs (ids fixed in advance). */
/**
 * SQL for "the outbox still holds a job that names `idColumn`" (its hand-over to the queue is
 * pending), for other libs' sweeps that must not fail a job that has not been queued yet. The
 * outbox table stays this lib's.
 */
export const outboxHoldsJobFor = (idColumn: string): string =>
  `EXISTS (SELECT 1 FROM job_outbox o WHERE strpos(o.spec::text, ${idColumn}::text) > 0)`;

export type OutboxEntry =
  | {
      kind: 'job';
      queue: QueueName;
      data: QueuePayloads[QueueName];
      /** `jobId` is required: a job handed over twice must still be one job. */
      options: JobsOptions & { jobId: string; jobName?: string };
    }
  | { kind: 'flow'; flow: FlowJob & { queueName: QueueName } };

type Claimed = { id: string; kind: OutboxEntry['kind']; spec: Record<string, unknown> };

/** How long a claimed row is left to its claimer before another relay may take it again. */
const LEASE_SECONDS = 30;
/** Staged rows the committing request hands over itself; the poll takes only the forgotten. */
const POLL_GRACE_SECONDS = 5;
const POLL_MS = 1000;
const BATCH = 50;
/** A queue backend that holds the connection but does not answer must not hold the request. */
const HAND_OVER_TIMEOUT_MS = 3000;

function withinTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the queue backend did not answer within ${HAND_OVER_TIMEOUT_MS} ms`)),
      HAND_OVER_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The transactional outbox between the database and the queues (design: "accepted means
 * durable"). `stage` writes the job's intent in the caller's transaction, beside the row it
 * is about; after the commit, `dispatch` hands it to BullMQ and deletes it. When the queue
 * backend is down, the row stays and every process's relay retries it with backoff, so work
 * that was accepted is queued once the backend is back, and exactly once: the job ids are
 * fixed, and BullMQ ignores a second add of an existing id.
 */
@Injectable()
export class JobOutbox implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Outbox');
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: QueueService,
  ) {}

  /** Writes the intent within `manager`'s transaction; returns the outbox row's id. */
  async stage(manager: EntityManager, entry: OutboxEntry): Promise<string> {
    const id = entry.kind === 'job' ? entry.options.jobId : newId();
    const spec = entry.kind === 'job' ? entry : entry.flow;
    await manager.query(
      `INSERT INTO job_outbox (id, kind, spec, next_attempt_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [id, entry.kind, JSON.stringify(spec), POLL_GRACE_SECONDS],
    );
    return id;
  }

  /**
   * Hands the given rows (just committed) to the queues now. Never throws: what could not be
   * queued stays in the outbox for the relay, and the caller's answer stands.
   */
  async dispatch(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.run(`id = ANY($1::uuid[])`, [ids]).catch((error: Error) =>
      this.logger.warn(`outbox dispatch deferred: ${error.message}`),
    );
  }

  /** Rows whose committer did not hand them over (it died, or the queue was down). */
  async relayDue(): Promise<number> {
    return this.run(`next_attempt_at <= now() ORDER BY created_at LIMIT $1`, [BATCH]);
  }

  /**
   * Claims the rows `pick` selects (a lease, so relays in other processes skip them; rows
   * another relay holds locked are skipped too) and queues them.
   */
  private async run(pick: string, params: unknown[]): Promise<number> {
    const rows: Claimed[] = await this.dataSource.query(
      `WITH claimed AS (
         UPDATE job_outbox SET attempts = attempts + 1,
                next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS})
          WHERE id IN (SELECT id FROM job_outbox WHERE ${pick} FOR UPDATE SKIP LOCKED)
          RETURNING id, kind, spec
       ) SELECT * FROM claimed`,
      params,
    );
    for (const row of rows) {
      try {
        if (row.kind === 'job') {
          const { queue, data, options } = row.spec as unknown as Extract<
            OutboxEntry,
            { kind: 'job' }
          >;
          await withinTimeout(this.queues.add(queue, data, options));
        } else
          await withinTimeout(
            this.queues.flow(row.spec as unknown as Extract<OutboxEntry, { kind: 'flow' }>['flow']),
          );
        await this.dataSource.query(`DELETE FROM job_outbox WHERE id = $1`, [row.id]);
      } catch (error) {
        const message = (error as Error).message;
        this.logger.warn(`could not queue outbox entry ${row.id} yet: ${message}`);
        // Backoff: 2, 4, 8 … up to 60 s between tries, for as long as it takes.
        await this.dataSource
          .query(
            `UPDATE job_outbox SET last_error = $2,
                    next_attempt_at = now() + make_interval(secs => least(60, power(2, attempts)))
              WHERE id = $1`,
            [row.id, message.slice(0, 500)],
          )
          .catch(() => undefined);
      }
    }
    return rows.length;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      this.relayDue()
        .catch((error: Error) => this.logger.warn(`outbox relay: ${error.message}`))
        .finally(() => (this.polling = false));
    }, POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}

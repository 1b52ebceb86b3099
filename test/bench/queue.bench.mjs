// No-op jobs through the app's own queue wiring, beside raw BullMQ on the same server. Parley:
// the config loader, chooseBackend (Redis, or BullMQ's PostgreSQL backend with the app's pool
// options and migrations), QueueService.add (the app's default job options) and
// QueueWorkerHost (the app's worker options, drainDelay 0.5 s on PostgreSQL), all from the
// compiled dist. Raw BullMQ: a plain Queue and Worker (BullMQ's defaults, the same
// concurrency, the same no-op processor) on the same Redis or the same database and schema.
// For each backend at worker concurrency 1 and 8, both are started side by side; then a burst
// of N jobs each, --rounds times, alternating which goes first (jobs/s from the first add to
// the last completion, median of the rounds; pick-up latency = processor start -
// job.timestamp, over all rounds), then a trickle of jobs added one at a time to an idle
// worker (pick-up latency only). Printed with the figures BullMQ publishes.
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and PostgreSQL at DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432); a throwaway database and key prefix are used.
// Config comes from CONFIG_DIR (default ./config), as for the app.
// With --raw-job-options parley, raw BullMQ adds its jobs with the job options Parley's
// QueueService applies (attempts, backoff, retention) instead of BullMQ's defaults: what is
// left between the two is the wiring.
//   node test/bench/queue.bench.mjs [--jobs 2000 (Redis) / 1000 (PostgreSQL)]
//     [--backend redis|postgres|both] [--rounds 3] [--raw-job-options bullmq|parley] [--quick]
import 'reflect-metadata';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { benchArgs, check, deleteRedisKeys, partlySkipped, root, skip } from './support.mjs';

// Published by BullMQ in its PostgreSQL backend guide, "Performance › Indicative numbers":
// an Apple Silicon laptop (M-series, ~12 cores), PostgreSQL and Redis local, trivial no-op
// jobs, durable defaults; "a rough illustration", "not a formal benchmark". The concurrency 8
// column is their "concurrency 8–32" row. BullMQ publishes no pick-up latency figures.
// Source: https://docs.bullmq.io/guide/postgresql (taskforcesh/bullmq,
// docs/gitbook/guide/postgresql.md).
const BULLMQ_PUBLISHED = {
  source: 'https://docs.bullmq.io/guide/postgresql (Performance › Indicative numbers)',
  setup: 'Apple Silicon laptop (M-series, ~12 cores), local servers, no-op jobs',
};

const args = benchArgs({
  jobs: { type: 'number', integer: true, min: 1, quick: 50 },
  backend: { type: 'choice', choices: ['redis', 'postgres', 'both'], default: 'both' },
  rounds: { type: 'number', integer: true, min: 1, default: 3, quick: 1 },
  'raw-job-options': { type: 'choice', choices: ['bullmq', 'parley'], default: 'bullmq' },
});
const BACKENDS = [
  { kind: 'redis', jobs: args.jobs ?? 2000 },
  { kind: 'postgres', jobs: args.jobs ?? 1000 },
].filter((b) => args.backend === 'both' || args.backend === b.kind);
const CONCURRENCIES = [1, 8];
const TRICKLE = { jobs: args.quick ? 10 : 200, perSec: 20 };
const WARMUP_JOBS = args.quick ? 5 : 20;
const PRODUCER_LANES = 16; // concurrent add() calls in flight during a burst
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const IMPLEMENTATIONS = ['parley', 'bullmq'];
const RAW_LABEL =
  args['raw-job-options'] === 'parley' ? "raw BullMQ, Parley's job options" : 'raw BullMQ';

const require = createRequire(import.meta.url);
const dist = (path) => require(`${root}dist/libs/${path}`);
const bullmq = require('bullmq');
const BULLMQ_VERSION = JSON.parse(
  readFileSync(`${root}node_modules/bullmq/package.json`, 'utf8'),
).version;

class SetupError extends Error {}
/** The server is not there: that backend is skipped, not failed. */
class Unreachable extends SetupError {}

const percentile = (sorted, p) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
    : NaN;

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/** Cleanups run in reverse order on exit, on error and on Ctrl-C. */
const cleanups = [];
async function cleanUp() {
  while (cleanups.length) {
    const [label, fn] = cleanups.pop();
    try {
      await fn();
    } catch (error) {
      console.error(`queue bench: cleanup "${label}" failed: ${error.message}`);
      process.exitCode = 1;
    }
  }
}
/** Registers a cleanup; the returned function runs it now (once) instead of at exit. */
function onCleanUp(label, fn) {
  const entry = [label, fn];
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) {
      cleanups.splice(i, 1);
      await fn();
    }
  };
}

async function prepareRedis(stamp) {
  const probe = new Redis(REDIS_URL, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  let lastError;
  probe.on('error', (error) => (lastError = error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    const reason = (lastError ?? error).message;
    throw new Unreachable(`cannot reach Redis at ${REDIS_URL}: ${reason}`);
  } finally {
    probe.disconnect();
  }
  const keyPrefix = `parley_bench_queue_${stamp}`;
  onCleanUp(`delete Redis keys ${keyPrefix}:*`, () => deleteRedisKeys(REDIS_URL, `${keyPrefix}:*`));
  return { REDIS_URL, REDIS_KEY_PREFIX: keyPrefix };
}

async function preparePostgres(stamp) {
  const admin = new pg.Client({
    connectionString: ADMIN_DATABASE_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await admin.connect();
  } catch (error) {
    throw new Unreachable(`cannot reach PostgreSQL at ${ADMIN_DATABASE_URL}: ${error.message}`);
  }
  const db = `parley_bench_queue_${stamp}`;
  try {
    await admin.query(`CREATE DATABASE ${db}`);
  } catch (error) {
    await admin.end();
    throw new SetupError(`cannot create database ${db}: ${error.message}`);
  }
  onCleanUp(`drop database ${db}`, async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${db}`;
  return { DATABASE_URL: url.toString(), DATABASE_MIGRATE_ON_BOOT: 'true' };
}

/** What one implementation's processor and worker events report during a run. */
class Tally {
  latencies = [];
  completed = 0;
  failures = [];
  lastCompletedAt = 0;
  waiter = undefined;
  pickedUp(ms) {
    this.latencies.push(ms);
  }
  done() {
    this.completed++;
    this.lastCompletedAt = performance.now();
    this.waiter?.();
  }
  failed(job, error) {
    this.failures.push(`job ${job?.id}: ${error.message}`);
  }
  reset() {
    check(this.failures.length === 0, `jobs failed: ${this.failures.slice(0, 3).join('; ')}`);
    this.latencies = [];
    this.completed = 0;
  }
  /** Resolves once `count` jobs have completed, or fails after `timeoutMs`. */
  completions(count, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`only ${this.completed}/${count} jobs completed in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiter = () => {
        if (this.completed >= count) {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        }
      };
      this.waiter();
    });
  }
}

/** The processor both implementations run: record the pick-up latency, return nothing. */
const noop = (tally) => async (job) => {
  tally.pickedUp(Date.now() - job.timestamp);
  return {};
};

/**
 * Parley: the app's queue objects for one concurrency: config from the loader, the backend
 * holder (which migrates BullMQ's tables on PostgreSQL, as on boot), the producer service and
 * the worker host, which discovers one no-op processor.
 */
async function startParley(env, concurrency, queueName, tally) {
  const { loadConfig, Metrics } = dist('core/src/index.js');
  const { QueueBackendHolder } = dist('queue/src/queue-backend.holder.js');
  const { QueueService } = dist('queue/src/queue.service.js');
  const { QueueWorkerHost } = dist('queue/src/queue-worker.host.js');
  const { QueueProcessor } = dist('queue/src/queue.processor.js');

  let config;
  try {
    config = loadConfig({
      env: { ...env, WORKER_CONCURRENCY: String(concurrency) },
      configDir: process.env.CONFIG_DIR ?? `${root}config`,
      isTty: false,
    });
  } catch (error) {
    throw new SetupError(`${error.message} (is dist built from this config?)`);
  }
  const holder = new QueueBackendHolder(
    config,
    { url: env.DATABASE_URL },
    { register: () => undefined },
  );
  try {
    await holder.onModuleInit();
  } catch (error) {
    throw new SetupError(`queue backend setup failed: ${error.message}`);
  }
  // The services as Nest would build them (their constructors are the contract kept here).
  const metrics = new Metrics();
  const service = new QueueService(holder, config, metrics);
  const run = noop(tally);
  class NoopProcessor {
    process(job) {
      return run(job);
    }
  }
  QueueProcessor(queueName)(NoopProcessor);
  const discovery = {
    getProviders: () => [{ metatype: NoopProcessor, instance: new NoopProcessor() }],
  };
  const host = new QueueWorkerHost([queueName], config, discovery, holder, metrics);
  const close = onCleanUp(`close ${queueName} worker and queue`, async () => {
    await host.onModuleDestroy();
    await service.onModuleDestroy();
  });
  host.onApplicationBootstrap();
  const [worker] = host.workers;
  if (!worker) throw new SetupError('the worker host started no worker');
  worker.on('completed', () => tally.done());
  worker.on('failed', (job, error) => tally.failed(job, error));
  try {
    await Promise.all([worker.waitUntilReady(), service.queue(queueName).waitUntilReady()]);
  } catch (error) {
    throw new SetupError(`worker did not connect: ${error.message}`);
  }
  return {
    backend: holder.get(),
    add: (i) => service.add(queueName, { kind: 'ping', sentAt: String(i) }),
    /** The options QueueService gave a job it added (its defaults). */
    async jobOptions() {
      const job = await service.add(queueName, { kind: 'ping', sentAt: 'options' });
      await tally.completions(tally.completed + 1, 30_000);
      const { attempts, backoff, removeOnComplete, removeOnFail } = job.opts;
      return { attempts, backoff, removeOnComplete, removeOnFail };
    },
    close,
  };
}

/**
 * Raw BullMQ: a plain Queue and Worker, BullMQ's defaults but for the concurrency (and the job
 * options, when given), on the Redis (under the bench's key prefix) or the database and schema
 * Parley's run uses.
 */
async function startRaw(backend, concurrency, queueName, tally, jobOptions) {
  let connection;
  let factory;
  let extra = {};
  if (backend.kind === 'redis') {
    connection = { url: REDIS_URL };
    extra = { prefix: `${backend.prefix}_raw` };
  } else {
    const { connectionString, schema } = backend.connection;
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await bullmq.runMigrations(client, schema);
    } finally {
      await client.end();
    }
    connection = { connectionString, schema };
    factory = bullmq.createPostgresBackend;
  }
  const queue = new bullmq.Queue(queueName, { connection, ...extra }, factory);
  const workerConnection =
    backend.kind === 'redis' ? { ...connection, maxRetriesPerRequest: null } : connection;
  const worker = new bullmq.Worker(
    queueName,
    noop(tally),
    { connection: workerConnection, concurrency, ...extra },
    factory,
  );
  const close = onCleanUp(`close raw ${queueName} worker and queue`, async () => {
    await worker.close();
    await queue.close();
  });
  worker.on('completed', () => tally.done());
  worker.on('failed', (job, error) => tally.failed(job, error));
  worker.on('error', (error) => tally.failures.push(`worker: ${error.message}`));
  queue.on('error', (error) => tally.failures.push(`queue: ${error.message}`));
  await Promise.all([worker.waitUntilReady(), queue.waitUntilReady()]);
  return {
    add: (i) => queue.add(queueName, { kind: 'ping', sentAt: String(i) }, jobOptions),
    close,
  };
}

/** N adds from PRODUCER_LANES concurrent producers while the worker drains. */
async function burst(impl, jobs) {
  const { tally } = impl;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PRODUCER_LANES }, async () => {
      while (next < jobs) await impl.add(next++);
    }),
  );
  const enqueuedMs = performance.now() - t0;
  await tally.completions(jobs, 60_000 + jobs * 20);
  check(tally.latencies.length === jobs, `${jobs} jobs ran ${tally.latencies.length} times`);
  const result = {
    jobsPerSec: (jobs / (tally.lastCompletedAt - t0)) * 1000,
    addsPerSec: (jobs / enqueuedMs) * 1000,
    latencies: tally.latencies,
  };
  tally.reset();
  return result;
}

/** One add at a time on a fixed schedule, so each job finds the worker idle. */
async function trickle(impl) {
  const { tally } = impl;
  const gapMs = 1000 / TRICKLE.perSec;
  const start = performance.now();
  for (let i = 0; i < TRICKLE.jobs; i++) {
    const due = start + i * gapMs - performance.now();
    if (due > 0) await sleep(due);
    await impl.add(i);
  }
  await tally.completions(TRICKLE.jobs, 30_000);
  const result = { jobs: TRICKLE.jobs, ...summary(tally.latencies) };
  tally.reset();
  return result;
}

async function measureConcurrency(env, jobs, concurrency) {
  const impls = {};
  try {
    const tallies = { parley: new Tally(), bullmq: new Tally() };
    impls.parley = await startParley(
      env,
      concurrency,
      `bench-parley-c${concurrency}`,
      tallies.parley,
    );
    impls.parley.tally = tallies.parley;
    let rawJobOptions;
    if (args['raw-job-options'] === 'parley') {
      rawJobOptions = await impls.parley.jobOptions();
      tallies.parley.reset();
    }
    impls.bullmq = await startRaw(
      impls.parley.backend,
      concurrency,
      `bench-bullmq-c${concurrency}`,
      tallies.bullmq,
      rawJobOptions,
    );
    impls.bullmq.tally = tallies.bullmq;
    // Warm-up: first adds create per-queue state (a sequence on PostgreSQL) and JIT the path.
    for (const impl of Object.values(impls)) {
      for (let i = 0; i < WARMUP_JOBS; i++) await impl.add(i);
      await impl.tally.completions(WARMUP_JOBS, 30_000);
      impl.tally.reset();
    }
    const rounds = Object.fromEntries(IMPLEMENTATIONS.map((name) => [name, []]));
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 ? [...IMPLEMENTATIONS].reverse() : IMPLEMENTATIONS;
      for (const name of order) rounds[name].push(await burst(impls[name], jobs));
    }
    const result = {};
    for (const name of IMPLEMENTATIONS) {
      await sleep(args.quick ? 100 : 1000);
      result[name] = {
        burst: {
          jobs,
          rounds: args.rounds,
          jobsPerSec: median(rounds[name].map((r) => r.jobsPerSec)),
          addsPerSec: median(rounds[name].map((r) => r.addsPerSec)),
          ...summary(rounds[name].flatMap((r) => r.latencies)),
        },
        trickle: await trickle(impls[name]),
      };
    }
    return result;
  } finally {
    for (const impl of Object.values(impls)) await impl.close();
  }
}

const fmt = (n) => (Number.isFinite(n) ? String(Math.round(n)) : '-');
const versus = (a, b) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? `${a >= b ? '+' : ''}${fmt(((a - b) / b) * 100)} %`
    : '-';

function printTable(results) {
  const header = [
    'backend',
    'conc',
    'run',
    'jobs',
    'impl',
    'jobs/s',
    'adds/s',
    'pick-up p50/p99/max ms',
    'parley vs bullmq',
  ];
  const rows = [];
  for (const r of results) {
    for (const run of ['burst', 'trickle']) {
      for (const name of IMPLEMENTATIONS) {
        const m = r[name][run];
        const other = r.bullmq[run];
        rows.push([
          r.kind,
          String(r.concurrency),
          run === 'burst' ? `burst ×${m.rounds}` : `trickle ${TRICKLE.perSec}/s`,
          String(m.jobs),
          name === 'parley' ? 'Parley' : RAW_LABEL,
          run === 'burst' ? fmt(m.jobsPerSec) : '-',
          run === 'burst' ? fmt(m.addsPerSec) : '-',
          `${fmt(m.p50)} / ${fmt(m.p99)} / ${fmt(m.max)}`,
          name !== 'parley'
            ? ''
            : run === 'burst'
              ? `jobs/s ${versus(m.jobsPerSec, other.jobsPerSec)}, p50 ${versus(m.p50, other.p50)}`
              : `p50 ${versus(m.p50, other.p50)}`,
        ]);
      }
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

async function main() {
  // The worker host logs through Nest's Logger; keep its warnings, drop the start-up lines.
  const { Logger } = require('@nestjs/common');
  Logger.overrideLogger(['warn', 'error']);
  const stamp = Date.now();
  const envs = {};
  for (const b of BACKENDS) {
    try {
      envs[b.kind] = b.kind === 'redis' ? await prepareRedis(stamp) : await preparePostgres(stamp);
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
      partlySkipped(error.message);
    }
  }
  const reachable = BACKENDS.filter((b) => envs[b.kind]);
  if (!reachable.length)
    skip('needs Redis (REDIS_URL) or PostgreSQL (DATABASE_URL); neither answered');
  const results = [];
  for (const b of reachable) {
    for (const concurrency of CONCURRENCIES) {
      const r = await measureConcurrency(envs[b.kind], b.jobs, concurrency);
      results.push({ kind: b.kind, concurrency, ...r });
      console.error(`queue bench: ${b.kind} concurrency ${concurrency} done`);
    }
  }
  console.log(
    `\nNo-op jobs, Parley's queue wiring beside a plain BullMQ ${BULLMQ_VERSION} Queue + Worker ` +
      `(${args['raw-job-options'] === 'parley' ? "adding jobs with Parley's job options" : "BullMQ's default job options"}) ` +
      `on the same server — node ${process.version}, ${PRODUCER_LANES} concurrent producers ` +
      `per burst, bursts alternate which goes first, trickle ${TRICKLE.jobs} jobs at ` +
      `${TRICKLE.perSec}/s; jobs/s = first add to last completion (median of the rounds); ` +
      'pick-up = processor start - job.timestamp (ms, same clock, all rounds).\n',
  );
  printTable(results);
  console.log(
    `\nBullMQ published (${BULLMQ_PUBLISHED.setup}):\n  ${BULLMQ_PUBLISHED.source}\n` +
      `  processing jobs/s: Redis c1 ~6,000, c8–32 ~18,000; PostgreSQL c1 ~2,300, c8–32 ~11,000\n` +
      `  add() concurrently: Redis ~38,000 jobs/s, PostgreSQL ~15,000 jobs/s\n` +
      '  pick-up latency: BullMQ publishes no figures for either backend.',
  );
}

process.once('SIGINT', () => {
  console.error('queue bench: interrupted, cleaning up');
  void cleanUp().finally(() => process.exit(130));
});

try {
  await main();
} catch (error) {
  const kind = error instanceof SetupError ? 'setup error' : 'failed';
  console.error(`queue bench: ${kind}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}

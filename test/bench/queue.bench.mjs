// No-op jobs through the app's own queue wiring: the config loader, chooseBackend (Redis, or
// BullMQ's PostgreSQL backend with the app's pool options and migrations), QueueService.add
// (the app's default job options) and QueueWorkerHost (the app's worker options, drainDelay
// 0.5 s on PostgreSQL), all from the compiled dist. For each backend at worker concurrency 1
// and 8: a burst of N jobs (jobs/s from the first add to the last completion, and pick-up
// latency = processor start - job.timestamp), then a trickle of jobs added one at a time to
// an idle worker (pick-up latency only). Printed next to the figures BullMQ publishes.
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and PostgreSQL at DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432); a throwaway database and key prefix are used.
// Config comes from CONFIG_DIR (default ./config), as for the app.
//   node test/bench/queue.bench.mjs [--jobs 2000] [--backend redis|postgres|both] [--quick]
import 'reflect-metadata';
import { Redis } from 'ioredis';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { root } from './support.mjs';

// Published by BullMQ in its PostgreSQL backend guide, "Performance › Indicative numbers":
// an Apple Silicon laptop (M-series, ~12 cores), PostgreSQL and Redis local, trivial no-op
// jobs, durable defaults; "a rough illustration", "not a formal benchmark". The concurrency 8
// column is their "concurrency 8–32" row. BullMQ publishes no pick-up latency figures.
// Source: https://docs.bullmq.io/guide/postgresql (taskforcesh/bullmq,
// docs/gitbook/guide/postgresql.md).
const BULLMQ_PUBLISHED = {
  source: 'https://docs.bullmq.io/guide/postgresql (Performance › Indicative numbers)',
  setup: 'Apple Silicon laptop (M-series, ~12 cores), local servers, no-op jobs',
  processingJobsPerSec: {
    redis: { 1: 6000, 8: 18000 },
    postgres: { 1: 2300, 8: 11000 },
  },
  concurrentAddJobsPerSec: { redis: 38000, postgres: 15000 },
  pickupLatency: null,
};

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('quick');
const backendArg = option('backend') ?? 'both';
const jobsArg = option('jobs');
const CONCURRENCIES = [1, 8];
const TRICKLE = { jobs: quick ? 40 : 200, perSec: 20 };
const WARMUP_JOBS = 20;
const PRODUCER_LANES = 16; // concurrent add() calls in flight during a burst
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';

const require = createRequire(import.meta.url);
const dist = (path) => require(`${root}dist/libs/${path}`);

class SetupError extends Error {}

function parseArgs() {
  if (!['redis', 'postgres', 'both'].includes(backendArg)) {
    throw new SetupError(`--backend must be redis, postgres or both (got "${backendArg}")`);
  }
  if (jobsArg !== undefined && !(Number.isInteger(Number(jobsArg)) && Number(jobsArg) > 0)) {
    throw new SetupError(`--jobs must be a positive integer (got "${jobsArg}")`);
  }
  const jobs = (fallback) => (jobsArg ? Number(jobsArg) : quick ? 200 : fallback);
  return [
    { kind: 'redis', jobs: jobs(2000) },
    { kind: 'postgres', jobs: jobs(1000) },
  ].filter((b) => backendArg === 'both' || backendArg === b.kind);
}

const percentile = (sorted, p) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
    : NaN;

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
}

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
    probe.disconnect();
    const reason = (lastError ?? error).message;
    throw new SetupError(`cannot reach Redis at ${REDIS_URL}: ${reason}`);
  }
  const keyPrefix = `parley_bench_queue_${stamp}`;
  cleanups.push([
    `delete Redis keys ${keyPrefix}:*`,
    async () => {
      let cursor = '0';
      do {
        const [next, keys] = await probe.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 1000);
        if (keys.length) await probe.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      probe.disconnect();
    },
  ]);
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
    throw new SetupError(`cannot reach PostgreSQL at ${ADMIN_DATABASE_URL}: ${error.message}`);
  }
  const db = `parley_bench_queue_${stamp}`;
  try {
    await admin.query(`CREATE DATABASE ${db}`);
  } catch (error) {
    await admin.end();
    throw new SetupError(`cannot create database ${db}: ${error.message}`);
  }
  cleanups.push([
    `drop database ${db}`,
    async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    },
  ]);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${db}`;
  return { DATABASE_URL: url.toString(), DATABASE_MIGRATE_ON_BOOT: 'true' };
}

/**
 * The app's queue objects for one concurrency: config from the loader, the backend holder
 * (which migrates BullMQ's tables on PostgreSQL, as on boot), the producer service and the
 * worker host, which discovers one no-op processor.
 */
async function startWiring(env, concurrency, queueName, onPickup, onCompleted) {
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
  class NoopProcessor {
    async process(job) {
      onPickup(Date.now() - job.timestamp);
      return {};
    }
  }
  QueueProcessor(queueName)(NoopProcessor);
  const discovery = {
    getProviders: () => [{ metatype: NoopProcessor, instance: new NoopProcessor() }],
  };
  const host = new QueueWorkerHost([queueName], config, discovery, holder, metrics);
  const close = async () => {
    await host.onModuleDestroy();
    await service.onModuleDestroy();
  };
  cleanups.push([`close ${queueName} worker and queue`, close]);
  host.onApplicationBootstrap();
  const [worker] = host.workers;
  if (!worker) throw new SetupError('the worker host started no worker');
  worker.on('completed', onCompleted);
  try {
    await Promise.all([worker.waitUntilReady(), service.queue(queueName).waitUntilReady()]);
  } catch (error) {
    throw new SetupError(`worker did not connect: ${error.message}`);
  }
  return {
    kind: holder.get().kind,
    add: (i) => service.add(queueName, { kind: 'ping', sentAt: String(i) }),
    close: async () => {
      cleanups.splice(
        cleanups.findIndex(([label]) => label === `close ${queueName} worker and queue`),
        1,
      );
      await close();
    },
  };
}

/** Resolves once `count` completions have been seen, or fails after `timeoutMs`. */
function completions(state, count, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${state.completed}/${count} jobs completed in ${timeoutMs} ms`)),
      timeoutMs,
    );
    state.waiter = () => {
      if (state.completed >= count) {
        clearTimeout(timer);
        state.waiter = undefined;
        resolve();
      }
    };
    state.waiter();
  });
}

async function measureConcurrency(env, jobs, concurrency) {
  const state = { latencies: [], completed: 0, lastCompletedAt: 0, waiter: undefined };
  const wiring = await startWiring(
    env,
    concurrency,
    `bench-c${concurrency}`,
    (ms) => state.latencies.push(ms),
    () => {
      state.completed++;
      state.lastCompletedAt = performance.now();
      state.waiter?.();
    },
  );
  const reset = () => {
    state.latencies = [];
    state.completed = 0;
  };
  try {
    // Warm-up: first adds create per-queue state (a sequence on PostgreSQL) and JIT the path.
    for (let i = 0; i < WARMUP_JOBS; i++) await wiring.add(i);
    await completions(state, WARMUP_JOBS, 30_000);
    reset();

    // Burst: N adds from PRODUCER_LANES concurrent producers while the worker drains.
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: PRODUCER_LANES }, async () => {
        while (next < jobs) await wiring.add(next++);
      }),
    );
    const enqueuedMs = performance.now() - t0;
    await completions(state, jobs, 60_000 + jobs * 20);
    const burstMs = state.lastCompletedAt - t0;
    const burst = {
      jobs,
      jobsPerSec: Math.round((jobs / burstMs) * 1000),
      addsPerSec: Math.round((jobs / enqueuedMs) * 1000),
      ...summary(state.latencies),
    };
    reset();

    // Trickle: one add at a time on a fixed schedule, so each job finds the worker idle.
    await sleep(1000);
    const gapMs = 1000 / TRICKLE.perSec;
    const start = performance.now();
    for (let i = 0; i < TRICKLE.jobs; i++) {
      const due = start + i * gapMs - performance.now();
      if (due > 0) await sleep(due);
      await wiring.add(i);
    }
    await completions(state, TRICKLE.jobs, 30_000);
    const trickle = { jobs: TRICKLE.jobs, ...summary(state.latencies) };
    return { burst, trickle };
  } finally {
    await wiring.close();
  }
}

const fmt = (n) => (Number.isFinite(n) ? String(Math.round(n)) : '-');

function printTable(results) {
  const header = ['backend', 'conc', 'run', 'jobs', 'jobs/s', 'adds/s', 'pick-up p50/p99/max ms'];
  header.push('BullMQ published jobs/s');
  const rows = [];
  for (const r of results) {
    const published = BULLMQ_PUBLISHED.processingJobsPerSec[r.kind][r.concurrency];
    const conc8 = r.concurrency === 8 ? ' (conc 8–32)' : '';
    rows.push([
      r.kind,
      String(r.concurrency),
      'burst',
      String(r.burst.jobs),
      fmt(r.burst.jobsPerSec),
      fmt(r.burst.addsPerSec),
      `${fmt(r.burst.p50)} / ${fmt(r.burst.p99)} / ${fmt(r.burst.max)}`,
      `~${published.toLocaleString('en-US')}${conc8}`,
    ]);
    rows.push([
      r.kind,
      String(r.concurrency),
      `trickle ${TRICKLE.perSec}/s`,
      String(r.trickle.jobs),
      '-',
      '-',
      `${fmt(r.trickle.p50)} / ${fmt(r.trickle.p99)} / ${fmt(r.trickle.max)}`,
      'none published',
    ]);
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
  const backends = parseArgs();
  // The worker host logs through Nest's Logger; keep its warnings, drop the start-up lines.
  const { Logger } = require('@nestjs/common');
  Logger.overrideLogger(['warn', 'error']);
  const stamp = Date.now();
  const envs = {};
  for (const b of backends) {
    envs[b.kind] = b.kind === 'redis' ? await prepareRedis(stamp) : await preparePostgres(stamp);
  }
  const results = [];
  for (const b of backends) {
    for (const concurrency of CONCURRENCIES) {
      const r = await measureConcurrency(envs[b.kind], b.jobs, concurrency);
      results.push({ kind: b.kind, concurrency, ...r });
      console.error(`queue bench: ${b.kind} concurrency ${concurrency} done`);
    }
  }
  console.log(
    `\nNo-op jobs through the app's queue wiring — node ${process.version}, ` +
      `${PRODUCER_LANES} concurrent producers per burst, trickle ${TRICKLE.jobs} jobs at ` +
      `${TRICKLE.perSec}/s; jobs/s = first add to last completion; pick-up = processor ` +
      'start - job.timestamp (ms, same clock).\n',
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

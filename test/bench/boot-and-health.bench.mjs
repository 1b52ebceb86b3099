// Cold start, RSS after boot, and GET /health/live throughput (autocannon, 50 connections) of
// the built api, in embedded mode and (when DATABASE_URL is set) services mode. Prints JSON.
//   node test/bench/boot-and-health.bench.mjs [--duration 10]
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const duration = Number(process.argv[process.argv.indexOf('--duration') + 1]) || 10;
const root = new URL('../..', import.meta.url).pathname;

function start(env, command = ['dist/apps/api/src/main.js']) {
  const t0 = performance.now();
  const child = spawn(
    command[0] === 'npm' ? 'npm' : process.execPath,
    command[0] === 'npm' ? command.slice(1) : command,
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const listening = new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, t0, listening };
}

async function readyAfter(port, t0) {
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
    if (res?.ok) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS'));
  return Math.round(Number(line.replace(/\D+/g, '')) / 1024);
}

/** The node process under `npm start` (npm runs it as a grandchild). */
function nodePidUnder(pid) {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  for (const c of children) {
    const argv = readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0');
    if (argv[0].endsWith('node') && argv.includes('dist/apps/api/src/main.js')) return Number(c);
    const deeper = nodePidUnder(Number(c));
    if (deeper) return deeper;
  }
  return 0;
}

async function measure(mode, env, { viaNpm = false } = {}) {
  const proc = start(env, viaNpm ? ['npm', 'start', '--silent'] : undefined);
  const port = await proc.listening;
  const listeningMs = performance.now() - proc.t0;
  const readyMs = await readyAfter(port, proc.t0);
  await new Promise((r) => setTimeout(r, 1000));
  const pid = viaNpm ? nodePidUnder(proc.child.pid) : proc.child.pid;
  const rssAfterBoot = rssMiB(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/health/live`,
    connections: 50,
    duration,
  });
  const rssAfterLoad = rssMiB(pid);
  // Signal the server itself (under npm it is a grandchild) and wait until npm sees it exit,
  // so the next boot does not find the data directory still locked.
  const exited = new Promise((r) => proc.child.on('exit', r));
  process.kill(pid, 'SIGTERM');
  await exited;
  return {
    mode,
    command: viaNpm ? 'npm start (includes the swc build)' : 'node dist/apps/api/src/main.js',
    coldStartToListeningMs: Math.round(listeningMs),
    coldStartToReadyMs: Math.round(readyMs),
    rssAfterBootMiB: rssAfterBoot,
    rssAfterLoadMiB: rssAfterLoad,
    healthLive: {
      connections: 50,
      durationS: duration,
      requestsPerSec: Math.round(result.requests.average),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      errors: result.errors,
      non2xx: result.non2xx,
    },
  };
}

const results = [];
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
try {
  // First boot creates the PGlite cluster (initdb); later boots open it.
  results.push(
    await measure(
      'embedded, first boot (new data dir)',
      { PGLITE_DATA_DIR: join(dir, 'a') },
      { viaNpm: true },
    ),
  );
  results.push(await measure('embedded, restart', { PGLITE_DATA_DIR: join(dir, 'a') }));
  if (process.env.DATABASE_URL) {
    const db = `parley_bench_${Date.now()}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${db}`;
    try {
      results.push(
        await measure('services (PostgreSQL + Redis)', {
          DATABASE_URL: url.toString(),
          DATABASE_MIGRATE_ON_BOOT: 'true',
          ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
        }),
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  JSON.stringify(
    { node: process.version, cpus: (await import('node:os')).cpus().length, results },
    null,
    2,
  ),
);

// Cold start, RSS after boot, and GET /health/live throughput (autocannon, 50 connections) of
// the built api, in embedded mode and (when DATABASE_URL is set) services mode. Prints JSON.
//   node test/bench/boot-and-health.bench.mjs [--duration 10]
import autocannon from 'autocannon';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, withServicesDatabase } from './support.mjs';

const duration = Number(process.argv[process.argv.indexOf('--duration') + 1]) || 10;

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
  const proc = startServer(env, { npmStart: viaNpm });
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
    results.push(
      await withServicesDatabase((env) => measure('services (PostgreSQL + Redis)', env)),
    );
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

// Cold start, RSS after boot, and GET /health/live throughput (autocannon, 50 connections) of
// the built api, in embedded mode and (when DATABASE_URL is set) services mode. Prints JSON.
// The first boot goes through `npm start`, which builds first; --quick runs what npm start
// runs without its build (node scripts/start.mjs), so that it leaves dist/ alone.
//   node test/bench/boot-and-health.bench.mjs [--duration 10] [--quick]
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchArgs, check, startServer, withServicesDatabase, withTempDir } from './support.mjs';

const { duration, quick } = benchArgs({
  duration: { type: 'number', min: 1, default: 10 },
});
// --quick sends a fixed number of requests instead of running for a while.
const SPAN = quick ? { amount: 200 } : { duration };
const spanLabel = quick ? { requests: 200 } : { durationS: duration };
const READY_WITHIN_MS = 60_000;

async function readyAfter(port, t0) {
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
    if (res?.ok) return performance.now() - t0;
    check(performance.now() - t0 < READY_WITHIN_MS, `not ready ${READY_WITHIN_MS} ms after start`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS'));
  return Math.round(Number(line.replace(/\D+/g, '')) / 1024);
}

/** The node process under `npm start` (npm runs it as a grandchild), or 0. */
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

const COMMANDS = {
  npm: { label: 'npm start (includes the swc build)', options: { npmStart: true } },
  start: {
    label: 'node scripts/start.mjs dist/apps/api/src/main.js (npm start without its build)',
    options: { command: [process.execPath, ['scripts/start.mjs', 'dist/apps/api/src/main.js']] },
  },
  node: { label: 'node dist/apps/api/src/main.js', options: {} },
};

async function measure(mode, env, how = 'node') {
  const proc = startServer(env, COMMANDS[how].options);
  const port = await proc.listening;
  const listeningMs = performance.now() - proc.t0;
  const readyMs = await readyAfter(port, proc.t0);
  await new Promise((r) => setTimeout(r, quick ? 200 : 1000));
  // Under npm the server is a grandchild; scripts/start.mjs runs it in-process on Node 24.
  const pid =
    how === 'node'
      ? proc.child.pid
      : nodePidUnder(proc.child.pid) || (how === 'start' ? proc.child.pid : 0);
  check(pid, `no server process found under ${COMMANDS[how].label}`);
  const rssAfterBoot = rssMiB(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/health/live`,
    connections: 50,
    ...SPAN,
  });
  check(
    result.non2xx === 0 && result.errors === 0 && result.requests.total > 0,
    `/health/live answered ${result.non2xx} non-2xx and ${result.errors} errors of ${result.requests.total}`,
  );
  const rssAfterLoad = rssMiB(pid);
  // Signal the server itself (under npm it is a grandchild) and wait until npm sees it exit,
  // so the next boot does not find the data directory still locked.
  await proc.stop(pid);
  return {
    mode,
    command: COMMANDS[how].label,
    coldStartToListeningMs: Math.round(listeningMs),
    coldStartToReadyMs: Math.round(readyMs),
    rssAfterBootMiB: rssAfterBoot,
    rssAfterLoadMiB: rssAfterLoad,
    healthLive: {
      connections: 50,
      ...spanLabel,
      requestsPerSec: Math.round(result.requests.average),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      errors: result.errors,
      non2xx: result.non2xx,
    },
  };
}

const results = [];
await withTempDir('boot', async (dir) => {
  // First boot creates the PGlite cluster (initdb); later boots open it.
  results.push(
    await measure(
      'embedded, first boot (new data dir)',
      { PGLITE_DATA_DIR: join(dir, 'a') },
      quick ? 'start' : 'npm',
    ),
  );
  results.push(await measure('embedded, restart', { PGLITE_DATA_DIR: join(dir, 'a') }));
  const services = await withServicesDatabase((env) =>
    measure('services (PostgreSQL + Redis)', env),
  );
  if (services) results.push(services);
});
console.log(
  JSON.stringify(
    { node: process.version, cpus: (await import('node:os')).cpus().length, results },
    null,
    2,
  ),
);

// Shared by the benchmarks: start a built server and wait for its port; a fresh database on
// the DATABASE_URL server for a services-mode run.
import { spawn } from 'node:child_process';
import pg from 'pg';

export const root = new URL('../..', import.meta.url).pathname;

/** Starts `node <script>` (or `npm start`) with PORT=0; resolves `listening` with the port. */
export function startServer(env, { npmStart = false, script = 'dist/apps/api/src/main.js' } = {}) {
  const t0 = performance.now();
  const [command, args] = npmStart ? ['npm', ['start', '--silent']] : [process.execPath, [script]];
  const child = spawn(command, args, {
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
  });
  let out = '';
  const listening = new Promise((resolve, reject) => {
    const onData = (d) => {
      // Keep a bounded tail: a benchmark that slows down reading its server's log would make
      // the server block on its (synchronous) log writes and measure the pipe, not Parley.
      out = (out + d).slice(-65536);
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, t0, listening, output: () => out };
}

/** Runs `fn(env)` against a fresh database (and Redis when REDIS_URL is set), then drops it. */
export async function withServicesDatabase(fn) {
  const db = `parley_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${db}`;
  try {
    return await fn({
      DATABASE_URL: url.toString(),
      DATABASE_MIGRATE_ON_BOOT: 'true',
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}

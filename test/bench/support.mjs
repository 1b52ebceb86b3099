// Shared by the benchmarks: the command line (with --quick), how a bench says it skipped or
// broke, starting a built server and waiting for its port, the bench admin's login and JSON
// calls, and a fresh database on the DATABASE_URL server for a services-mode run.
//
// --quick (what `node scripts/bench.mjs --quick` runs, a smoke test): the smallest sizes that
// still go through every measured path, no timing asserted, a non-zero exit when the bench
// itself breaks. A bench that cannot run here (a data set or a tool missing) prints one line
// starting with "skipped:" and exits 0; one that runs only part of itself says so on stderr in
// a line starting with "partly skipped:".
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export const root = new URL('../..', import.meta.url).pathname;
const benchName = basename(process.argv[1] ?? 'bench').replace(/\.bench\.mjs$/, '');

// ---------------------------------------------------------------------------------------------
// Command line

const parsers = {
  flag: () => true,
  string: (v) => v,
  choice: (v, o) => {
    if (!o.choices.includes(v)) throw new Error(`must be one of ${o.choices.join(', ')}`);
    return v;
  },
  number: (v, o) => {
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || n < (o.min ?? 0))
      throw new Error(`must be a number of at least ${o.min ?? 0}`);
    if (o.integer && !Number.isInteger(n)) throw new Error('must be a whole number');
    return n;
  },
  list: (v, o) => {
    const items = v.split(',').map((x) => parsers.number(x, { integer: true, min: 1, ...o }));
    if (!items.length) throw new Error('must be a comma-separated list');
    return items;
  },
};

/**
 * Parses `--name value` (or `--name=value`) for the options declared in `spec`:
 * `{ name: { type: 'number'|'string'|'choice'|'list'|'flag', default, quick, min, integer,
 * choices } }`. `--quick` is always known; under it, an option the caller did not give takes
 * its `quick` value. Unknown options are reported and ignored, since scripts/bench.mjs passes
 * its arguments to every bench. A bad value ends the process with exit code 2.
 */
export function benchArgs(spec = {}) {
  const all = { quick: { type: 'flag' }, ...spec };
  const given = {};
  const argv = process.argv.slice(2);
  try {
    for (let i = 0; i < argv.length; i++) {
      const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
      if (!m) {
        console.error(`${benchName} bench: ignoring argument "${argv[i]}"`);
        continue;
      }
      const [, name, inline] = m;
      const option = all[name];
      if (!option) {
        console.error(`${benchName} bench: ignoring unknown option --${name}`);
        if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) i++;
        continue;
      }
      if (option.type === 'flag') {
        given[name] = true;
        continue;
      }
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      try {
        given[name] = parsers[option.type](value, option);
      } catch (error) {
        throw new Error(`--${name} ${error.message} (got "${value}")`, { cause: error });
      }
    }
  } catch (error) {
    console.error(`${benchName} bench: ${error.message}`);
    process.exit(2);
  }
  const quick = given.quick === true;
  const out = { quick };
  for (const [name, option] of Object.entries(spec)) {
    out[name] =
      name in given
        ? given[name]
        : quick && 'quick' in option
          ? option.quick
          : (option.default ?? (option.type === 'flag' ? false : undefined));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Skipping and breaking

/** The whole bench cannot run here: one line, exit 0. Call it before starting anything. */
export function skip(reason) {
  console.log(`skipped: ${benchName}: ${reason}`);
  process.exit(0);
}

/** Part of the bench does not run here (the rest does). */
export function partlySkipped(reason) {
  console.error(`partly skipped: ${benchName}: ${reason}`);
}

/** Skips the bench unless ../shared/data/<path> exists; returns its absolute path. */
export function dataset(path) {
  const full = join(root, '..', 'shared', 'data', path);
  if (!existsSync(full)) skip(`needs the data set ../shared/data/${path}, which is not here`);
  return full;
}

/** The bench is broken (not slow): an exception that ends it with a non-zero exit code. */
export function check(condition, message) {
  if (!condition) throw new Error(`${benchName} bench broke: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** The value at quantile q (0…1) of an ascending array: sorted[floor(q·n)], clamped. */
export const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;

// ---------------------------------------------------------------------------------------------
// Servers

/** The admin every server started here bootstraps with (BOOTSTRAP_ADMIN_*). */
export const ADMIN = { email: 'bench@parley.test', password: 'bench-password-not-secret' };

/**
 * Starts `node <script>` (or `npm start`, or any `command`) with PORT=0 and the bench admin;
 * `listening` resolves with the port, `stop()` ends it. CONFIG_DIR passes through, as for the
 * app.
 */
export function startServer(
  env,
  { npmStart = false, command, script = 'dist/apps/api/src/main.js' } = {},
) {
  const t0 = performance.now();
  const [file, args] = command
    ? command
    : npmStart
      ? ['npm', ['start', '--silent']]
      : [process.execPath, [script]];
  const child = spawn(file, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.CONFIG_DIR ? { CONFIG_DIR: process.env.CONFIG_DIR } : {}),
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      PORT: '0',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
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
    child.on('exit', (code) =>
      reject(new Error(`the server exited (code ${code}) before listening:\n${out.slice(-4000)}`)),
    );
  });
  return {
    child,
    t0,
    listening,
    output: () => out,
    /** SIGTERM (to `pid`, by default the child) and wait until the child has exited. */
    async stop(pid = child.pid) {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

/** A temporary directory for `fn(dir)`, removed afterwards. */
export async function withTempDir(prefix, fn) {
  const dir = mkdtempSync(join(tmpdir(), `parley-bench-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A JSON call: resolves with the parsed body (null when empty); throws with the method, path,
 * status and body on any status ≥ 400, so a failed request breaks the bench.
 */
export async function call(base, method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/** An access token for `credentials` (the bench admin by default). */
export async function login(base, credentials = ADMIN) {
  const { accessToken } = await call(base, 'POST', '/v1/auth/login', { body: credentials });
  check(typeof accessToken === 'string', `login as ${credentials.email} returned no token`);
  return accessToken;
}

/** Deletes the keys matching `pattern` (SCAN MATCH syntax) on the Redis at `url`. */
export async function deleteRedisKeys(url, pattern) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Runs `fn(env)` against a fresh database (and, when REDIS_URL is set, Redis under a key prefix
 * of its own), then drops both; without DATABASE_URL, says that services mode is skipped and
 * resolves undefined.
 */
export async function withServicesDatabase(fn) {
  if (!process.env.DATABASE_URL) {
    partlySkipped('services mode needs DATABASE_URL (and REDIS_URL for Redis)');
    return undefined;
  }
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
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: db } : {}),
    });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
    if (process.env.REDIS_URL) await deleteRedisKeys(process.env.REDIS_URL, `${db}*`);
  }
}

// Added latency of the auth guard per request: GET /v1/auth/me with a JWT and with an API key,
// against GET /health/live (no auth, no rate limit) on the same server. Also login timing for
// an unknown email vs a wrong password. Embedded mode, and services mode when DATABASE_URL is set.
//   node test/bench/auth-guard.bench.mjs [--duration 5]
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, withServicesDatabase } from './support.mjs';

const duration = Number(process.argv[process.argv.indexOf('--duration') + 1]) || 5;
const ADMIN = { email: 'bench@parley.test', password: 'bench-password-not-secret' };

async function boot(env) {
  const server = startServer({
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_AUTH: '1000000/60',
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    ...env,
  });
  return { child: server.child, base: `http://127.0.0.1:${await server.listening}` };
}

const post = (url, body, headers = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function cannon(url, headers, connections) {
  const r = await autocannon({ url, headers, connections, duration });
  return {
    requestsPerSec: Math.round(r.requests.average),
    meanMs: r.latency.mean,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
  };
}

async function loginTiming(base, body, n = 30) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await post(`${base}/v1/auth/login`, body);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: +times[Math.floor(n / 2)].toFixed(1), minMs: +times[0].toFixed(1) };
}

async function measure(mode, env) {
  const { child, base } = await boot(env);
  try {
    const { accessToken } = await (await post(`${base}/v1/auth/login`, ADMIN)).json();
    const auth = { authorization: `Bearer ${accessToken}` };
    const { key } = await (
      await post(`${base}/v1/api-keys`, { name: 'bench', scopes: ['chat'] }, auth)
    ).json();
    const result = { mode };
    for (const connections of [1, 50]) {
      const baseline = await cannon(`${base}/health/live`, {}, connections);
      const jwt = await cannon(`${base}/v1/auth/me`, auth, connections);
      const apiKey = await cannon(`${base}/v1/auth/me`, { 'x-api-key': key }, connections);
      result[`connections${connections}`] = {
        baseline,
        jwt,
        apiKey,
        addedMeanMsJwt: +(jwt.meanMs - baseline.meanMs).toFixed(2),
        addedMeanMsApiKey: +(apiKey.meanMs - baseline.meanMs).toFixed(2),
      };
    }
    result.login = {
      unknownEmail: await loginTiming(base, {
        email: 'nobody@parley.test',
        password: 'whatever-password',
      }),
      wrongPassword: await loginTiming(base, { email: ADMIN.email, password: 'whatever-password' }),
    };
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
}

const results = [];
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-auth-'));
try {
  results.push(await measure('embedded', { PGLITE_DATA_DIR: join(dir, 'pglite') }));
  if (process.env.DATABASE_URL) {
    results.push(
      await withServicesDatabase((env) => measure('services (PostgreSQL + Redis)', env)),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ node: process.version, durationS: duration, results }, null, 2));

// Added latency of the auth guard per request: GET /v1/auth/me with a JWT and with an API key,
// against GET /health/live (no auth, no rate limit) on the same server. Also login timing for
// an unknown email vs a wrong password. Embedded mode, and services mode when DATABASE_URL is set.
//   node test/bench/auth-guard.bench.mjs [--duration 5] [--quick]
import autocannon from 'autocannon';
import { join } from 'node:path';
import {
  ADMIN,
  benchArgs,
  call,
  check,
  login,
  startServer,
  withServicesDatabase,
  withTempDir,
} from './support.mjs';

const { duration, logins, quick } = benchArgs({
  duration: { type: 'number', min: 1, default: 5 },
  logins: { type: 'number', integer: true, min: 1, default: 30, quick: 3 },
});
// --quick sends a fixed number of requests per measurement instead of running for a while.
const SPAN = quick ? { amount: 100 } : { duration };
const spanLabel = quick ? { requestsPerMeasurement: 100 } : { durationS: duration };

async function cannon(url, headers, connections) {
  const r = await autocannon({ url, headers, connections, ...SPAN });
  check(
    r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.requests.total > 0,
    `${url} answered ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts of ${r.requests.total}`,
  );
  return {
    requestsPerSec: Math.round(r.requests.average),
    meanMs: r.latency.mean,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
  };
}

async function loginTiming(base, body) {
  const times = [];
  for (let i = 0; i < logins; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    check(res.status === 401, `a login with a wrong password answered ${res.status}, not 401`);
  }
  times.sort((a, b) => a - b);
  return { medianMs: +times[Math.floor(logins / 2)].toFixed(1), minMs: +times[0].toFixed(1) };
}

async function measure(mode, env) {
  const server = startServer({
    RATE_LIMIT_AUTH: '1000000/60',
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    ...env,
  });
  const base = `http://127.0.0.1:${await server.listening}`;
  try {
    const token = await login(base);
    const { key } = await call(base, 'POST', '/v1/api-keys', {
      token,
      body: { name: 'bench', scopes: ['chat'] },
    });
    const auth = { authorization: `Bearer ${token}` };
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
    await server.stop();
  }
}

const results = [];
await withTempDir('auth', async (dir) => {
  results.push(await measure('embedded', { PGLITE_DATA_DIR: join(dir, 'pglite') }));
  const services = await withServicesDatabase((env) =>
    measure('services (PostgreSQL + Redis)', env),
  );
  if (services) results.push(services);
});
console.log(JSON.stringify({ node: process.version, ...spanLabel, results }, null, 2));

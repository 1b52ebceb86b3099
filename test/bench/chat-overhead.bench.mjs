// Added latency of Parley over calling the upstream directly, against the fake upstream with a
// fixed latency: JSON turns (persistence on) and streaming time to first token, at 1, 16 and 64
// concurrent clients, in embedded mode and (with DATABASE_URL) services mode. Prints JSON.
//   node test/bench/chat-overhead.bench.mjs [--requests 30] [--ttft 20] [--levels 1,16,64] [--services-only]
//     [--output-checks-off]   (relay answers token by token: no sentence-by-sentence output guardrails)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, withServicesDatabase, root } from './support.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS_PER_CLIENT = arg('requests', 30);
const TTFT_MS = arg('ttft', 20);
const LEVELS = process.argv.includes('--levels')
  ? process.argv[process.argv.indexOf('--levels') + 1].split(',').map(Number)
  : [1, 16, 64];
const OUTPUT_CHECKS_OFF = process.argv.includes('--output-checks-off');
const ADMIN = { email: 'bench@parley.test', password: 'bench-password-not-secret' };

const { FakeLlm } = await import(join(root, 'dist/test/support/fake-llm/index.js'));

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const stats = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: +quantile(s, 0.5).toFixed(2),
    p95: +quantile(s, 0.95).toFixed(2),
    p99: +quantile(s, 0.99).toFixed(2),
  };
};
const added = (a, b) => ({
  p50: +(a.p50 - b.p50).toFixed(2),
  p95: +(a.p95 - b.p95).toFixed(2),
  p99: +(a.p99 - b.p99).toFixed(2),
});

/** Runs `clients` loops of `REQUESTS_PER_CLIENT` sequential calls; returns each call's latency. */
async function load(clients, call) {
  const latencies = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < REQUESTS_PER_CLIENT; i++) latencies.push(await call(c));
    }),
  );
  return latencies;
}

/** Milliseconds until the first chunk of the body that contains `marker`. */
async function timeToFirst(response, marker, t0) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  let first;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    if (first === undefined && seen.includes(marker)) first = performance.now() - t0;
  }
  return first;
}

async function measure(mode, env, fake) {
  const server = startServer({
    LLM_BASE_URL: fake.url,
    LLM_MODEL: 'fake-model',
    LLM_API_KEY: 'sk-bench',
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_CHAT: '1000000/60',
    RATE_LIMIT_AUTH: '1000000/60',
    // fake-model is not in config/pricing.yaml: price it, so every turn is admitted and settled.
    COST_UNKNOWN_MODEL_INPUT_PER_MTOK: '0.15',
    COST_UNKNOWN_MODEL_OUTPUT_PER_MTOK: '0.60',
    // e.g. --cpu-prof, to see where the time goes
    ...(process.env.PARLEY_BENCH_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.PARLEY_BENCH_NODE_OPTIONS }
      : {}),
    ...env,
  });
  const port = await server.listening;
  const base = `http://127.0.0.1:${port}`;
  try {
    const json = (r) => r.json();
    const { accessToken } = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    }).then(json);
    const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    if (OUTPUT_CHECKS_OFF) {
      // Answers are then relayed token by token instead of checked sentence by sentence.
      const off = { action: 'off' };
      await fetch(`${base}/v1/admin/guardrails`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ output: { pii: off, prompt_leak: off, toxicity: off } }),
      });
    }
    const { key } = await fetch(`${base}/v1/api-keys`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'bench', scopes: ['chat'] }),
    }).then(json);
    const keyAuth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const result = { mode, levels: {} };
    for (const clients of LEVELS) {
      const conversations = [];
      for (let c = 0; c < clients; c++) {
        conversations.push(
          (
            await fetch(`${base}/v1/conversations`, {
              method: 'POST',
              headers: keyAuth,
              body: '{}',
            }).then(json)
          ).id,
        );
      }
      const upstreamBody = JSON.stringify({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'How long does a refund take?' }],
      });
      const direct = await load(clients, async () => {
        const t0 = performance.now();
        await fetch(`${fake.url}/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
          body: upstreamBody,
        }).then(json);
        return performance.now() - t0;
      });
      const viaParley = await load(clients, async (c) => {
        const t0 = performance.now();
        const res = await fetch(`${base}/v1/conversations/${conversations[c]}/messages`, {
          method: 'POST',
          headers: keyAuth,
          body: JSON.stringify({ content: 'How long does a refund take?' }),
        });
        const body = await res.json();
        if (res.status !== 201) {
          await new Promise((r) => setTimeout(r, 500)); // let the server's log catch up
          const errors = server
            .output()
            .split('\n')
            .filter((l) => l.includes('"level":50'));
          throw new Error(
            `status ${res.status}: ${JSON.stringify(body)}\n${errors.slice(-2).join('\n')}`,
          );
        }
        return performance.now() - t0;
      });
      const directTtft = await load(clients, async () => {
        const t0 = performance.now();
        const res = await fetch(`${fake.url}/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
          body: JSON.stringify({ ...JSON.parse(upstreamBody), stream: true }),
        });
        return timeToFirst(res, '"content":"', t0);
      });
      const parleyTtft = await load(clients, async (c) => {
        const t0 = performance.now();
        const res = await fetch(`${base}/v1/conversations/${conversations[c]}/messages`, {
          method: 'POST',
          headers: { ...keyAuth, accept: 'text/event-stream' },
          body: JSON.stringify({ content: 'How long does a refund take?' }),
        });
        return timeToFirst(res, 'event: delta', t0);
      });
      const d = stats(direct);
      const p = stats(viaParley);
      const dt = stats(directTtft);
      const pt = stats(parleyTtft);
      result.levels[clients] = {
        json: { directMs: d, parleyMs: p, addedMs: added(p, d) },
        streamingTtft: { directMs: dt, parleyMs: pt, addedMs: added(pt, dt) },
        requests: viaParley.length,
      };
    }
    return result;
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.on('exit', r));
  }
}

const fake = await FakeLlm.start({
  reply: 'Refunds take five to seven working days once the return arrives.',
  ttftMs: TTFT_MS,
});
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-chat-'));
const results = [];
try {
  if (!process.argv.includes('--services-only'))
    results.push(await measure('embedded', { PGLITE_DATA_DIR: join(dir, 'pglite') }, fake));
  if (process.env.DATABASE_URL)
    results.push(
      await withServicesDatabase((env) => measure('services (PostgreSQL + Redis)', env, fake)),
    );
} finally {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  JSON.stringify(
    {
      node: process.version,
      upstreamTtftMs: TTFT_MS,
      outputChecks: !OUTPUT_CHECKS_OFF,
      requestsPerClient: REQUESTS_PER_CLIENT,
      results,
    },
    null,
    2,
  ),
);

// Added latency of Parley over calling the upstream directly, against the fake upstream with a
// fixed latency: JSON turns (persistence on) and streaming time to first token, at 1, 16 and 64
// concurrent clients, in embedded mode and (with DATABASE_URL) services mode. Prints JSON.
//   node test/bench/chat-overhead.bench.mjs [--requests 30] [--ttft 20] [--levels 1,16,64] [--services-only]
//     [--output-checks-off]   (relay answers token by token: no sentence-by-sentence output guardrails)
//     [--quick]
import { join } from 'node:path';
import {
  benchArgs,
  call,
  check,
  login,
  quantile,
  root,
  startServer,
  withServicesDatabase,
  withTempDir,
} from './support.mjs';

const args = benchArgs({
  requests: { type: 'number', integer: true, min: 1, default: 30, quick: 2 },
  ttft: { type: 'number', default: 20 },
  levels: { type: 'list', default: [1, 16, 64], quick: [1, 4] },
  'services-only': { type: 'flag' },
  'output-checks-off': { type: 'flag' },
});
const REQUESTS_PER_CLIENT = args.requests;
const TTFT_MS = args.ttft;
const LEVELS = args.levels;
const OUTPUT_CHECKS_OFF = args['output-checks-off'];

const { FakeLlm } = await import(join(root, 'dist/test/support/fake-llm/index.js'));

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

/** Milliseconds until the first chunk of the body that contains `marker`; the body must. */
async function timeToFirst(response, marker, t0) {
  check(response.ok, `a streamed turn answered ${response.status}`);
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
  check(first !== undefined, `a stream ended without ${marker}: ${seen.slice(-300)}`);
  return first;
}

async function measure(mode, env, fake) {
  const server = startServer({
    LLM_BASE_URL: fake.url,
    LLM_MODEL: 'fake-model',
    LLM_API_KEY: 'sk-bench',
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
    const token = await login(base);
    if (OUTPUT_CHECKS_OFF) {
      // Answers are then relayed token by token instead of checked sentence by sentence.
      const off = { action: 'off' };
      await call(base, 'PUT', '/v1/admin/guardrails', {
        token,
        body: { output: { pii: off, prompt_leak: off, toxicity: off } },
      });
    }
    const { key } = await call(base, 'POST', '/v1/api-keys', {
      token,
      body: { name: 'bench', scopes: ['chat'] },
    });
    const keyAuth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const result = { mode, levels: {} };
    for (const clients of LEVELS) {
      const conversations = [];
      for (let c = 0; c < clients; c++) {
        conversations.push(
          (await call(base, 'POST', '/v1/conversations', { token: key, body: {} })).id,
        );
      }
      const upstreamBody = JSON.stringify({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'How long does a refund take?' }],
      });
      const direct = await load(clients, async () => {
        const t0 = performance.now();
        const res = await fetch(`${fake.url}/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
          body: upstreamBody,
        });
        await res.json();
        check(res.ok, `the fake upstream answered ${res.status}`);
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
    await server.stop();
  }
}

const fake = await FakeLlm.start({
  reply: 'Refunds take five to seven working days once the return arrives.',
  ttftMs: TTFT_MS,
});
const results = [];
try {
  await withTempDir('chat', async (dir) => {
    if (!args['services-only'])
      results.push(await measure('embedded', { PGLITE_DATA_DIR: join(dir, 'pglite') }, fake));
    const services = await withServicesDatabase((env) =>
      measure('services (PostgreSQL + Redis)', env, fake),
    );
    if (services) results.push(services);
  });
} finally {
  await fake.close();
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

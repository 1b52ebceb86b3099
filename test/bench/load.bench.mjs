// Mixed load on a services-mode installation as it is deployed: two api instances and one worker
// on one PostgreSQL (a fresh database, dropped at the end) and one Redis (a key prefix of its
// own, deleted at the end), answered by the fake upstream with a streaming delay per token.
// Traffic comes from autocannon in a second process, spread over both instances, as a weighted
// rotation of chat JSON, chat SSE, knowledge-base search, speech job submissions and usage
// reads. A short calibration raises the connections step by step to find the highest rate with
// p99 under 1 s; then one run of --duration seconds at that setting. Reports per route and
// overall throughput, latency, status codes and errors; RSS and heap of the three processes over
// the run; and, once quiet, the invariants: no budget reservation left held, spent = ledger,
// every speech job finished. Needs DATABASE_URL (REDIS_URL is used when set). Prints JSON.
//   node test/bench/load.bench.mjs [--duration 60] [--step 10] [--levels 2,4,8,16,32,48,64,96,128]
//     [--connections N (skips the calibration)] [--ttft 20] [--token-delay 5] [--p99-ms 1000]
//     [--quick]   (one 2 s calibration step at 2 connections, a 3 s run, short pauses; any failed
//                 request or broken invariant fails the bench; budgets must balance in any run)
//   PARLEY_BENCH_NODE_OPTIONS (e.g. --trace-warnings) is passed to the api and worker processes.
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { benchArgs, check, deleteRedisKeys, quantile, root, skip } from './support.mjs';

const args = benchArgs({
  duration: { type: 'number', min: 1, default: 60, quick: 3 },
  step: { type: 'number', min: 1, default: 10, quick: 2 },
  levels: { type: 'list', default: [2, 4, 8, 16, 32, 48, 64, 96, 128], quick: [2] },
  connections: { type: 'number', integer: true, min: 1 },
  ttft: { type: 'number', default: 20 },
  'token-delay': { type: 'number', default: 5 },
  'p99-ms': { type: 'number', min: 1, default: 1000 },
  'load-child': { type: 'flag' },
});

/** Share of each route in the traffic, in twentieths (the rotation every connection follows). */
const MIX = { chatJson: 7, chatSse: 3, search: 5, audio: 1, usage: 4 };
const QUESTIONS = [
  'How long does a refund take?',
  'Can I change the delivery address after ordering?',
  'What does the warranty cover?',
  'How do I reset my password?',
  'How do I file a claim for a damaged parcel?',
  'Which payment methods do you accept?',
  'Do you ship to Switzerland?',
  'How do I close my account?',
];
const REPLY =
  'Refunds take five to seven working days once the return arrives [1]. ' +
  'The money goes back to the card you paid with, and you get an e-mail when it is sent.';
const SEARCHES = [
  'refund card days',
  'delivery address change',
  'warranty repair replacement',
  'password reset email link',
  'damaged parcel claim photos',
  'payment methods invoice',
  'shipping countries customs',
  'close account data deletion',
];

const latencyStats = (values) => {
  const s = Float64Array.from(values).sort();
  const r = (v) => (v === null ? null : +v.toFixed(1));
  return {
    p50: r(quantile(s, 0.5)),
    p95: r(quantile(s, 0.95)),
    p99: r(quantile(s, 0.99)),
    max: r(s.length ? s[s.length - 1] : null),
  };
};

// ---------------------------------------------------------------------------------------------
// The load process: reads its spec from stdin, runs autocannon, prints the result as JSON.

async function loadChild() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const spec = JSON.parse(input);
  const auth = { authorization: `Bearer ${spec.key}` };
  const json = { ...auth, 'content-type': 'application/json' };
  let turn = 0;
  let query = 0;
  const nextConversation = () => spec.conversations[turn++ % spec.conversations.length];
  const build = {
    chatJson: () => ({
      method: 'POST',
      path: `/v1/conversations/${nextConversation()}/messages`,
      headers: json,
      body: JSON.stringify({ content: QUESTIONS[turn % QUESTIONS.length] }),
    }),
    chatSse: () => ({
      method: 'POST',
      path: `/v1/conversations/${nextConversation()}/messages`,
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ content: QUESTIONS[turn % QUESTIONS.length] }),
    }),
    search: () => ({
      method: 'POST',
      path: `/v1/knowledge-bases/${spec.knowledgeBaseId}/search`,
      headers: json,
      body: JSON.stringify({ query: SEARCHES[query++ % SEARCHES.length], topK: 5 }),
    }),
    audio: () => ({
      method: 'POST',
      path: '/v1/audio/speech',
      headers: json,
      body: JSON.stringify({ text: 'Your parcel arrives on Monday.', format: 'wav' }),
    }),
    usage: () => ({ method: 'GET', path: '/v1/usage?groupBy=day', headers: auth }),
  };

  const routes = {};
  for (const name of Object.keys(MIX))
    routes[name] = { latencies: [], status: {}, codes: {}, timeouts: 0, connErrors: 0 };
  // Each route's slots spread evenly over the rotation of 20 (7 chat, 3 SSE, 5 search…).
  const slots = Object.entries(MIX)
    .flatMap(([name, w]) => Array.from({ length: w }, (_, j) => ({ name, at: (j + 0.5) / w })))
    .sort((a, b) => a.at - b.at)
    .map((s) => s.name);
  const requests = slots.map((route) => ({
    route,
    setupRequest: (req) => ({ ...req, ...build[route]() }),
    onResponse: (status, body) => {
      const r = routes[route];
      let code;
      if (status >= 400) {
        try {
          code = JSON.parse(body).code;
        } catch {
          code = 'unparsed';
        }
      } else if (route === 'chatSse' && !body.includes('event: done')) {
        // A stream that ended with an error event is a failure even though it began with 200.
        const m = /event: error\ndata: (.*)/.exec(body);
        try {
          code = `stream:${m ? JSON.parse(m[1]).code : 'no done event'}`;
        } catch {
          code = 'stream:unparsed';
        }
      }
      if (code) r.codes[`${status} ${code}`] = (r.codes[`${status} ${code}`] ?? 0) + 1;
    },
  }));

  const t0 = Date.now();
  const instance = autocannon({
    url: spec.urls,
    connections: spec.connections,
    duration: spec.duration,
    timeout: spec.timeoutSeconds,
    requests,
    setupClient: (client) => {
      const route = () => routes[client.requestIterator.currentRequest.route];
      client.on('timeout', () => route().timeouts++);
      client.on('connError', () => route().connErrors++);
    },
  });
  // With one request in flight per connection, the client's current request is the one that
  // was just answered (the next one is chosen after this event).
  instance.on('response', (client, status, _bytes, ms) => {
    const r = routes[client.requestIterator.currentRequest.route];
    r.latencies.push(ms);
    r.status[status] = (r.status[status] ?? 0) + 1;
  });
  const result = await instance;
  const seconds = (Date.now() - t0) / 1000;

  const summarize = (r) => {
    const responses = r.latencies.length;
    const ok = Object.entries(r.status)
      .filter(([s]) => s < 400)
      .reduce((n, [, c]) => n + c, 0);
    const failedStreams = Object.entries(r.codes)
      .filter(([k]) => k.includes('stream:'))
      .reduce((n, [, c]) => n + c, 0);
    return {
      requestsPerSec: +(responses / seconds).toFixed(1),
      responses,
      latencyMs: latencyStats(r.latencies),
      status: r.status,
      errors: {
        non2xx: responses - ok,
        failedStreams,
        timeouts: r.timeouts,
        connErrors: r.connErrors,
        byCode: r.codes,
      },
    };
  };
  const perRoute = Object.fromEntries(Object.entries(routes).map(([k, r]) => [k, summarize(r)]));
  const all = {
    latencies: Object.values(routes).flatMap((r) => r.latencies),
    status: {},
    codes: {},
    timeouts: 0,
    connErrors: 0,
  };
  for (const r of Object.values(routes)) {
    for (const [s, c] of Object.entries(r.status)) all.status[s] = (all.status[s] ?? 0) + c;
    all.timeouts += r.timeouts;
    all.connErrors += r.connErrors;
  }
  const overall = summarize(all);
  overall.errors.failedStreams = perRoute.chatSse.errors.failedStreams;
  delete overall.errors.byCode;
  process.stdout.write(
    JSON.stringify({
      connections: spec.connections,
      durationS: +seconds.toFixed(1),
      overall,
      perRoute,
      // autocannon's own tally (its latency counts 2xx responses only).
      autocannon: {
        requestsPerSec: result.requests.average,
        latencyP99Ms2xx: result.latency.p99,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

async function main() {
  const DURATION = args.duration;
  const STEP = args.step;
  const LEVELS = args.levels;
  const FIXED_CONNECTIONS = args.connections ?? null;
  const TTFT_MS = args.ttft;
  const TOKEN_DELAY_MS = args['token-delay'];
  const P99_LIMIT_MS = args['p99-ms'];
  const AUDIO_DRAIN_S = 60;
  const CONVERSATIONS = args.quick ? 4 : 64;
  // Pauses that let the system settle between runs; short in a smoke test.
  const pause = (ms) => sleep(args.quick ? Math.min(ms, 500) : ms);

  if (!process.env.DATABASE_URL)
    skip('needs DATABASE_URL (services mode: two api instances and a worker)');

  const stamp = Date.now();
  const dbName = `parley_load_${stamp}`;
  const redisPrefix = `parley_load_${stamp}`;
  const adminUrl = process.env.DATABASE_URL;
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const audioDir = mkdtempSync(join(tmpdir(), 'parley-load-audio-'));
  const espeak = spawnSync('espeak-ng', ['--version']).status === 0;
  const { FakeLlm } = await import(join(root, 'dist/test/support/fake-llm/index.js'));

  const processes = [];
  let fake;
  let db;
  // One cleanup, however many callers (a signal, then the failed run's finally) wait for it.
  let cleaning;
  const cleanup = () => (cleaning ??= stopEverything());
  const stopEverything = async () => {
    loadProcess?.kill('SIGTERM');
    // The apis first (no new jobs), then the worker; SIGKILL whatever outlives its grace.
    for (const group of [
      processes.filter((p) => p.kind === 'api'),
      processes.filter((p) => p.kind !== 'api'),
    ])
      await Promise.all(group.map((p) => p.stop()));
    await fake?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    const admin = new pg.Client({ connectionString: adminUrl });
    try {
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    } catch (e) {
      console.error(`could not drop ${dbName}: ${e.message}`);
    } finally {
      await admin.end().catch(() => undefined);
    }
    if (process.env.REDIS_URL) {
      await deleteRedisKeys(process.env.REDIS_URL, `${redisPrefix}*`).catch((e) =>
        console.error(`could not delete the Redis keys ${redisPrefix}*: ${e.message}`),
      );
    }
    rmSync(audioDir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();

    fake = await FakeLlm.start({
      reply: REPLY,
      ttftMs: TTFT_MS,
      tokenDelayMs: TOKEN_DELAY_MS,
    });
    const unlimited = '1000000/1'; // the largest limit config allows, per second
    const env = {
      APP_ENV: 'test',
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      BOOTSTRAP_ADMIN_EMAIL: 'root@parley.test',
      BOOTSTRAP_ADMIN_PASSWORD: 'root-password-for-the-load-bench',
      JWT_SIGNING_KEYS: 'load-1:load-bench-signing-secret-that-is-long-enough-0123',
      API_KEY_PEPPER: 'load-bench-pepper-that-is-long-enough-0123456789',
      ...(process.env.CONFIG_DIR ? { CONFIG_DIR: process.env.CONFIG_DIR } : {}),
      METRICS_TOKEN: BENCH_METRICS_TOKEN, // /metrics on the main port needs one
      DATABASE_URL: dbUrl.toString(),
      ...(process.env.REDIS_URL
        ? { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: redisPrefix }
        : {}),
      WORKERS_IN_PROCESS: 'false',
      LLM_BASE_URL: fake.url,
      LLM_MODEL: 'fake-model', // priced by config/pricing.test.yaml (APP_ENV=test)
      LLM_API_KEY: 'sk-load',
      // config/test.yaml's 3 s would measure the timeout under overload, not the capacity.
      LLM_TIMEOUT_MS: '60000',
      RATE_LIMIT_DEFAULT: unlimited,
      RATE_LIMIT_AUTH: unlimited,
      RATE_LIMIT_CHAT: unlimited,
      RATE_LIMIT_AUDIO: unlimited,
      RATE_LIMIT_ADMIN: unlimited,
      AUDIO_DIR: audioDir,
      // e.g. --trace-warnings or --cpu-prof, for the three server processes
      ...(process.env.PARLEY_BENCH_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.PARLEY_BENCH_NODE_OPTIONS }
        : {}),
      // Without espeak-ng, speech goes to the fake upstream's /audio/speech.
      ...(espeak
        ? { AUDIO_PROVIDER: 'local' }
        : { AUDIO_PROVIDER: 'openai', AUDIO_BASE_URL: fake.url, AUDIO_TTS_MODEL: 'fake-tts' }),
    };

    const migrate = spawnSync(process.execPath, ['dist/apps/api/src/migrate.js', 'run'], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    if (migrate.status !== 0)
      throw new Error(`migrations failed:\n${migrate.stdout}${migrate.stderr}`);

    const [apiPort1, apiPort2, workerPort] = [await freePort(), await freePort(), await freePort()];
    processes.push(
      startProcess(
        'api-1',
        'api',
        'dist/apps/api/src/main.js',
        { ...env, PORT: String(apiPort1) },
        apiPort1,
      ),
      startProcess(
        'api-2',
        'api',
        'dist/apps/api/src/main.js',
        { ...env, PORT: String(apiPort2) },
        apiPort2,
      ),
      startProcess(
        'worker',
        'worker',
        'dist/apps/worker/src/main.js',
        { ...env, WORKER_HEALTH_PORT: String(workerPort) },
        workerPort,
      ),
    );
    await Promise.all(processes.map((p) => p.ready()));
    const urls = [apiPort1, apiPort2].map((p) => `http://127.0.0.1:${p}`);

    // --- Setup (not measured): tenant, admin, budget, API key, knowledge base, conversations.
    const call = async (base, method, path, token, body) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body && JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    };
    const rootToken = (
      await call(urls[0], 'POST', '/v1/auth/login', null, {
        email: env.BOOTSTRAP_ADMIN_EMAIL,
        password: env.BOOTSTRAP_ADMIN_PASSWORD,
      })
    ).accessToken;
    const tenantAdmin = { email: 'admin@load.test', password: 'load-admin-password-0123' };
    const { tenant } = await call(urls[0], 'POST', '/v1/admin/tenants', rootToken, {
      name: 'load',
      adminEmail: tenantAdmin.email,
      adminPassword: tenantAdmin.password,
    });
    // Capacity, not refusals: a budget the run cannot exhaust (the default is $100 a day).
    await call(urls[0], 'PUT', '/v1/admin/budgets', rootToken, {
      budgets: [
        {
          scope: 'tenant',
          scopeId: tenant.id,
          period: 'day',
          limitUsd: '1000000',
          perRequestLimitUsd: '100',
        },
      ],
    });
    const adminToken = (
      await call(urls[1], 'POST', '/v1/auth/login', null, { ...tenantAdmin, tenant: 'load' })
    ).accessToken;
    const { key } = await call(urls[1], 'POST', '/v1/api-keys', adminToken, {
      name: 'load bench',
      scopes: ['chat', 'rag:read', 'rag:write', 'audio', 'usage:read'],
    });
    const kb = await call(urls[0], 'POST', '/v1/knowledge-bases', key, {
      name: 'Support handbook',
      language: 'english',
    });
    const documentIds = [];
    for (const [i, doc] of DOCUMENTS.entries())
      documentIds.push(
        (
          await call(urls[i % 2], 'POST', `/v1/knowledge-bases/${kb.id}/documents`, key, {
            title: doc.title,
            text: doc.text,
            metadata: { team: doc.team },
          })
        ).id,
      );
    const indexStart = Date.now();
    for (const id of documentIds) {
      for (;;) {
        const d = await call(urls[0], 'GET', `/v1/knowledge-bases/${kb.id}/documents/${id}`, key);
        if (d.status === 'ready') break;
        if (d.status === 'failed') throw new Error(`document ${id} failed: ${d.error}`);
        if (Date.now() - indexStart > 60_000) throw new Error('documents not indexed within 60 s');
        await sleep(200);
      }
    }
    const conversations = [];
    for (let i = 0; i < CONVERSATIONS; i++)
      conversations.push(
        (
          await call(urls[i % 2], 'POST', '/v1/conversations', key, {
            title: `load ${i}`,
            knowledgeBaseIds: [kb.id],
          })
        ).id,
      );
    db = new pg.Client({ connectionString: dbUrl.toString() });
    await db.connect();

    // --- Load.
    const memory = { idle: await sampleMemory(processes) };
    const runLoad = async (connections, duration) => {
      fake.requests.length = 0; // the fake keeps every request; not this bench's memory to measure
      return runChild({
        urls,
        connections,
        duration,
        timeoutSeconds: 10,
        key,
        knowledgeBaseId: kb.id,
        conversations,
      });
    };
    const calibration = [];
    let best = FIXED_CONNECTIONS;
    if (!best) {
      for (const connections of LEVELS) {
        const r = await runLoad(connections, STEP);
        const failures = failuresOf(r);
        const passed =
          r.overall.latencyMs.p99 !== null &&
          r.overall.latencyMs.p99 < P99_LIMIT_MS &&
          failures <= 0.01 * r.overall.responses;
        calibration.push({
          connections,
          requestsPerSec: r.overall.requestsPerSec,
          latencyMs: r.overall.latencyMs,
          failures,
          passed,
        });
        process.stderr.write(
          `calibration: ${connections} connections → ${r.overall.requestsPerSec} req/s, p99 ${r.overall.latencyMs.p99} ms, ${failures} failures\n`,
        );
        if (!passed) break;
        await pause(2000);
      }
      const passing = calibration.filter((c) => c.passed);
      best = passing.length
        ? passing.reduce((a, b) => (b.requestsPerSec > a.requestsPerSec ? b : a)).connections
        : LEVELS[0];
      await pause(3000);
    }

    memory.start = await sampleMemory(processes);
    const t0 = Date.now();
    const series = [];
    const sampler = setInterval(
      () => {
        fake.requests.length = 0;
        void sampleMemory(processes).then((s) =>
          series.push({ t: Math.round((Date.now() - t0) / 1000), ...s }),
        );
      },
      args.quick ? 1000 : 5000,
    );
    let mid;
    const midTimer = setTimeout(
      () => void sampleMemory(processes).then((s) => (mid = s)),
      (DURATION * 1000) / 2,
    );
    const full = await runLoad(best, DURATION);
    full.p99UnderLimit =
      full.overall.latencyMs.p99 !== null && full.overall.latencyMs.p99 < P99_LIMIT_MS;
    clearInterval(sampler);
    clearTimeout(midTimer);
    memory.mid = mid ?? null;
    memory.end = await sampleMemory(processes);

    // --- Invariants, once quiet.
    const invariants = await checkInvariants(db, tenant.id, AUDIO_DRAIN_S);
    await pause(10_000); // idle, so a leak shows as memory that stays up rather than load
    memory.afterQuiet = await sampleMemory(processes);

    const processSummary = {};
    for (const p of processes) {
      const at = (field) =>
        Object.fromEntries(
          ['idle', 'start', 'mid', 'end', 'afterQuiet'].map((k) => [
            k,
            memory[k]?.[p.name]?.[field] ?? null,
          ]),
        );
      const values = series.map((s) => s[p.name]?.rssMiB).filter((v) => v != null);
      processSummary[p.name] = {
        rssMiB: at('rssMiB'),
        heapUsedMiB: at('heapUsedMiB'),
        // What the RSS holds besides live JS objects: the heap V8 keeps, and Buffers.
        heapTotalMiB: at('heapTotalMiB'),
        externalMiB: at('externalMiB'),
        rssSeriesMiB: values,
        levelsOff: levelsOff(values),
        log: p.logSummary(),
      };
    }

    console.log(
      JSON.stringify(
        {
          node: process.version,
          cpus: cpus().length,
          setup: {
            topology: '2 api + 1 worker, one PostgreSQL database, one Redis',
            redis: Boolean(process.env.REDIS_URL),
            upstream: {
              ttftMs: TTFT_MS,
              tokenDelayMs: TOKEN_DELAY_MS,
              replyTokens: REPLY.split(/\s+/).length,
            },
            speech: espeak ? 'espeak-ng (local, wav)' : 'fake upstream (openai-compatible)',
            vectorStore: 'none (lexical search: no EMBEDDING_MODEL)',
            mix: Object.fromEntries(Object.entries(MIX).map(([k, w]) => [k, `${w * 5} %`])),
            documents: DOCUMENTS.length,
            conversations: conversations.length,
            note: 'latency is to the end of the response (SSE: the done event); the load generator shares the 2 cores',
          },
          calibration: FIXED_CONNECTIONS
            ? { skipped: `--connections ${FIXED_CONNECTIONS}` }
            : {
                stepSeconds: STEP,
                p99LimitMs: P99_LIMIT_MS,
                steps: calibration,
                chosenConnections: best,
              },
          run: full,
          processes: processSummary,
          invariants,
        },
        null,
        2,
      ),
    );
    const { budgets, audio } = invariants;
    check(
      budgets.ok && budgets.spentMatchesLedger !== false,
      `budgets do not balance: ${JSON.stringify(budgets)}`,
    );
    if (args.quick) {
      // A smoke test's load is light: any failure is the bench (or Parley) broken, not overload.
      for (const [name, r] of [
        ...calibration.map((c) => [`calibration at ${c.connections}`, c]),
        ['run', { failures: failuresOf(full) }],
      ])
        check(r.failures === 0, `${name}: ${r.failures} requests failed`);
      check(full.overall.responses > 0, 'the run got no responses');
      check(
        audio.ok && !audio.byStatus.failed,
        `speech jobs did not all finish: ${JSON.stringify(audio)}`,
      );
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Requests of a load run that failed: non-2xx, timed out, or a stream without its end. */
const failuresOf = (r) =>
  r.overall.errors.non2xx + r.overall.errors.timeouts + r.overall.errors.failedStreams;

/** The load process while one runs, so that cleanup can stop it too. */
let loadProcess = null;

/** Runs the load process with `spec` and resolves with its JSON result. */
function runChild(spec) {
  return new Promise((resolve, reject) => {
    const child = (loadProcess = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--load-child'],
      {
        cwd: root,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    ));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      loadProcess = null;
      if (code !== 0) return reject(new Error(`load process exited ${code}`));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`load process printed no JSON: ${e.message}\n${out.slice(0, 2000)}`));
      }
    });
    child.stdin.end(JSON.stringify(spec));
  });
}

/** A port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a built entry point; `ready()` polls its /health/ready. Its log (warn and above, JSON)
 * is counted by level, with the first distinct messages kept.
 */
function startProcess(name, kind, script, env, port) {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const base = `http://127.0.0.1:${port}`;
  let tail = '';
  let partial = '';
  const counts = { warn: 0, error: 0, fatal: 0, other: 0 };
  const messages = new Map();
  const plain = []; // lines that are not JSON: node's own warnings and their traces
  const examples = {}; // the first whole line of each distinct error, to see where it came from
  const onData = (d) => {
    tail = (tail + d).slice(-16384);
    const lines = (partial + d).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      if (!line.trim()) continue;
      let level = 'other';
      let msg = line.slice(0, 200);
      try {
        const entry = JSON.parse(line);
        level =
          entry.level >= 60
            ? 'fatal'
            : entry.level >= 50
              ? 'error'
              : entry.level >= 40
                ? 'warn'
                : 'other';
        msg = String(entry.err?.message ?? entry.msg ?? '').slice(0, 200);
        if (entry.res?.statusCode)
          msg = `${entry.res.statusCode} ${entry.req?.method} ${entry.req?.url?.replace(/[0-9a-f-]{36}/g, ':id')} ${msg}`;
      } catch {
        // not JSON (a stack trace from node itself): counted as other
      }
      counts[level]++;
      if (level === 'other' && plain.length < 40) plain.push(line.slice(0, 300));
      const k = `${level}: ${msg}`;
      if (messages.has(k) || messages.size < 12) messages.set(k, (messages.get(k) ?? 0) + 1);
      if (
        (level === 'error' || level === 'fatal') &&
        !(k in examples) &&
        Object.keys(examples).length < 4
      )
        examples[k] = line.slice(0, 1500);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return {
    name,
    kind,
    pid: child.pid,
    base,
    async ready() {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}:\n${tail}`);
        const res = await fetch(`${base}/health/ready`).catch(() => null);
        if (res?.ok) return;
        if (Date.now() > deadline) throw new Error(`${name} not ready within 60 s:\n${tail}`);
        await sleep(200);
      }
    },
    logSummary: () => ({
      ...counts,
      messages: Object.fromEntries(messages),
      errorExamples: examples,
    }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const BENCH_METRICS_TOKEN = 'load-bench-metrics-token-0123456789';

/** RSS and heap used of each process, from its /metrics (else RSS from /proc). */
async function sampleMemory(processes) {
  const out = {};
  await Promise.all(
    processes.map(async (p) => {
      const mib = (bytes) => Math.round(Number(bytes) / 1048576);
      try {
        const text = await fetch(`${p.base}/metrics`, {
          headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
          signal: AbortSignal.timeout(5000),
        }).then((r) => r.text());
        const value = (name) => new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1];
        out[p.name] = {
          rssMiB: mib(value('parley_process_resident_memory_bytes')),
          heapUsedMiB: mib(value('parley_nodejs_heap_size_used_bytes')),
          heapTotalMiB: mib(value('parley_nodejs_heap_size_total_bytes')),
          externalMiB: mib(value('parley_nodejs_external_memory_bytes')),
        };
      } catch {
        const line = readFileSync(`/proc/${p.pid}/status`, 'utf8')
          .split('\n')
          .find((l) => l.startsWith('VmRSS'));
        out[p.name] = {
          rssMiB: Math.round(Number(line.replace(/\D+/g, '')) / 1024),
          heapUsedMiB: null,
        };
      }
    }),
  );
  return out;
}

/**
 * Whether RSS levels off over the run: its last quarter sets no new high (above what it reached
 * before) of more than 5 % or 8 MiB, whichever is larger. A rough call; the series is printed.
 */
function levelsOff(values) {
  if (values.length < 8) return null;
  const quarter = Math.ceil(values.length / 4);
  const before = Math.max(...values.slice(0, -quarter));
  const late = Math.max(...values.slice(-quarter));
  return late - before <= Math.max(8, 0.05 * before);
}

/** After the load: reservations released, spend = ledger, every speech job finished. */
async function checkInvariants(db, tenantId, audioDrainSeconds) {
  const t0 = Date.now();
  const q = async (sql, params) => (await db.query(sql, params)).rows;
  // Budgets: nothing reserved once the last request has settled.
  let reservations;
  for (;;) {
    [reservations] = await q(
      `SELECT (SELECT count(*)::int FROM cost_reservations WHERE status = 'held') AS held,
              (SELECT coalesce(sum(reserved_usd), 0)::text FROM budget_counters) AS "reservedUsd"`,
    );
    if (
      (reservations.held === 0 && Number(reservations.reservedUsd) === 0) ||
      Date.now() - t0 > 30_000
    )
      break;
    await sleep(500);
  }
  const byStatus = await q(
    `SELECT status, count(*)::int AS n FROM cost_reservations GROUP BY status ORDER BY status`,
  );
  const counters = await q(
    `SELECT budget_key, window_id, spent_usd::text AS spent, reserved_usd::text AS reserved
       FROM budget_counters WHERE tenant_id = $1 OR tenant_id IS NULL ORDER BY budget_key, window_id`,
    [tenantId],
  );
  const [ledger] = await q(
    `SELECT coalesce(sum(cost_usd), 0)::text AS total, count(*)::int AS rows FROM usage_ledger WHERE tenant_id = $1`,
    [tenantId],
  );
  const tenantCounters = counters.filter((c) => c.budget_key.startsWith('tenant:'));
  const budgets = {
    heldReservations: reservations.held,
    reservedUsd: reservations.reservedUsd,
    reservationsByStatus: Object.fromEntries(byStatus.map((r) => [r.status, r.n])),
    settledWithinSeconds: +((Date.now() - t0) / 1000).toFixed(1),
    ok: reservations.held === 0 && Number(reservations.reservedUsd) === 0,
    tenantSpentUsd: tenantCounters.map((c) => `${c.window_id}: ${c.spent}`),
    ledgerUsd: ledger.total,
    ledgerRows: ledger.rows,
    spentMatchesLedger:
      tenantCounters.length === 1 ? Number(tenantCounters[0].spent) === Number(ledger.total) : null,
  };

  // Speech jobs: none left queued or active within the bound.
  const a0 = Date.now();
  let jobs;
  for (;;) {
    jobs = Object.fromEntries(
      (await q(`SELECT status, count(*)::int AS n FROM audio_jobs GROUP BY status`)).map((r) => [
        r.status,
        r.n,
      ]),
    );
    if (!jobs.queued && !jobs.active) break;
    if (Date.now() - a0 > audioDrainSeconds * 1000) break;
    await sleep(1000);
  }
  const [latency] = await q(
    `SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)))::numeric, 2)::text AS p50,
            round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)))::numeric, 2)::text AS p99,
            round(max(extract(epoch FROM finished_at - created_at))::numeric, 2)::text AS max
       FROM audio_jobs WHERE finished_at IS NOT NULL`,
  );
  const failures = await q(
    `SELECT error->>'code' AS code, count(*)::int AS n FROM audio_jobs WHERE status = 'failed' GROUP BY 1`,
  );
  const audio = {
    byStatus: jobs,
    drainedWithinSeconds: +((Date.now() - a0) / 1000).toFixed(1),
    ok: !jobs.queued && !jobs.active,
    queuedToFinishedSeconds: latency,
    failuresByCode: Object.fromEntries(failures.map((f) => [f.code, f.n])),
  };
  const messages = Object.fromEntries(
    (await q(`SELECT role || ' ' || status AS k, count(*)::int AS n FROM messages GROUP BY 1`)).map(
      (r) => [r.k, r.n],
    ),
  );
  return { budgets, audio, messages };
}

// A small support handbook: a few sections per document, so search has something to rank.
const DOCUMENTS = [
  {
    title: 'Refunds',
    team: 'billing',
    text: `# Refunds\n\nRefunds take five to seven working days once the return arrives at our warehouse. The money goes back to the card or account you paid with.\n\n## Partial refunds\n\nIf only part of an order is returned, the refund covers those items and their share of the shipping cost.\n\n## Refund status\n\nYou get an e-mail when the refund is sent. Banks may take another three days to show it on your statement.`,
  },
  {
    title: 'Delivery',
    team: 'logistics',
    text: `# Delivery\n\nOrders ship within one working day. Standard delivery takes two to four days, express delivery one day.\n\n## Changing the delivery address\n\nYou can change the delivery address until the parcel leaves the warehouse, from the order page or by calling support.\n\n## Countries\n\nWe ship to the European Union, Switzerland, Norway and the United Kingdom. Customs duties outside the EU are paid by the recipient.`,
  },
  {
    title: 'Warranty',
    team: 'support',
    text: `# Warranty\n\nEvery device has a two-year warranty from the date of delivery. It covers manufacturing defects, not accidental damage or wear.\n\n## Repair or replacement\n\nWe repair the device, or replace it when a repair is not possible. A replacement carries the rest of the original warranty.\n\n## Making a warranty request\n\nSend the order number, a description of the defect and, if you can, a photo or a short video.`,
  },
  {
    title: 'Accounts',
    team: 'support',
    text: `# Accounts\n\n## Resetting your password\n\nChoose "Forgot password" on the sign-in page. We send a reset link by e-mail; it works once and expires after one hour.\n\n## Closing your account\n\nYou can close your account in the settings. Your data is deleted within thirty days, except invoices, which the law requires us to keep for ten years.\n\n## Payment methods\n\nWe accept cards, PayPal, bank transfer and payment by invoice for business customers.`,
  },
  {
    title: 'Claims',
    team: 'claims',
    text: `# Claims\n\nIf a parcel arrives damaged, file a claim within fourteen days. Keep the packaging until the claim is settled.\n\n## What to send\n\nPhotos of the parcel, the packaging and the damaged item, and the order number. Claim 4711 is an example of a claim number.\n\n## How long it takes\n\nMost claims are decided within five working days. You receive a replacement or a refund, as you prefer.`,
  },
];

if (args['load-child']) await loadChild();
else await main();

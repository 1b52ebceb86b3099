import { FakeLlm } from '../support/fake-llm';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { type CollectedSpan, OtlpCollector } from '../support/otlp-collector';
import { callJson, spawnDist, type SpawnedProcess } from '../support/spawned-process';
import { METRICS_AUTH, ROOT, testEnv } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The api as `npm start` runs it, with OTEL_EXPORTER_OTLP_ENDPOINT set: the SDK starts before
 * Nest, the auto-instrumentations trace the request, the database and the upstream call, the
 * pipeline's spans join the same trace, the exporter sends OTLP over HTTP, and the log lines
 * of the request carry its trace id.
 */
describe('traces exported over OTLP/HTTP by the running api', () => {
  let database: TestDatabase;
  let fake: FakeLlm;
  let collector: OtlpCollector;
  let api: SpawnedProcess;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await FakeLlm.start({ reply: 'Traced answers arrive.' });
    collector = await OtlpCollector.start();
    api = spawnDist(
      'apps/api/src/main.js',
      testEnv({
        ...database.env,
        ...fakeLlmEnv(fake.url),
        PORT: '0',
        LOG_FORMAT: 'json',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }),
    );
    base = `http://127.0.0.1:${await api.listening}`;
  });
  afterAll(async () => {
    await api?.stop();
    await collector?.close();
    await fake?.close();
    await database?.drop();
  });

  const call = (method: string, path: string, body?: unknown, token?: string) =>
    callJson(base, method, path, body, token);

  it('traces a chat request end to end, from the HTTP span to the database and the model', async () => {
    const root = (await call('POST', '/v1/auth/login', ROOT)).body.accessToken as string;
    const tenant = {
      name: `trace-${Date.now()}`,
      email: 'admin@trace.test',
      password: 'pw-trace-0123456789',
    };
    expect(
      (
        await call(
          'POST',
          '/v1/admin/tenants',
          { name: tenant.name, adminEmail: tenant.email, adminPassword: tenant.password },
          root,
        )
      ).status,
    ).toBe(201);
    const admin = (
      await call('POST', '/v1/auth/login', {
        email: tenant.email,
        password: tenant.password,
        tenant: tenant.name,
      })
    ).body.accessToken as string;
    const conversation = (await call('POST', '/v1/conversations', {}, admin)).body;
    const turn = await call(
      'POST',
      `/v1/conversations/${conversation.id}/messages`,
      { content: 'Do traces arrive?' },
      admin,
    );
    expect(turn.status).toBe(201);

    const chat = await collector.waitFor((s) => s.name === 'chat fake-model');
    const trace = (name: string) =>
      collector.spans.filter((s) => s.traceId === chat.traceId && s.name.startsWith(name));
    // Every step waits for the batch that holds it.
    await collector.waitFor((s) => s.traceId === chat.traceId && s.name === 'parley.persist');
    // The HTTP span ends last, after the response went out: it may come in a later batch.
    await collector.waitFor((s) => s.traceId === chat.traceId && s.kind === 2 && !s.parentSpanId);
    const spans = collector.spans.filter((s) => s.traceId === chat.traceId);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (s: CollectedSpan): string[] => {
      const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
      return parent ? [parent.name, ...ancestors(parent)] : [];
    };

    // The HTTP server span is the root, named by route template.
    const server = spans.find((s) => s.kind === 2 && !s.parentSpanId);
    expect(server).toBeDefined();
    expect(server!.service).toBe('parley-api');
    expect(server!.attributes['http.request.method'] ?? server!.attributes['http.method']).toBe(
      'POST',
    );
    for (const step of [
      'parley.auth',
      'parley.chat.turn',
      'parley.guardrails.input',
      'parley.budget.reserve',
      'parley.persist',
    ])
      expect(trace(step)).toHaveLength(1);
    expect(ancestors(chat)).toContain('parley.chat.turn');
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'fake-model',
      'gen_ai.system': 'env',
    });
    expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    // The upstream call (undici) is a child of the GenAI span; the SQL of the turn is traced.
    const upstream = spans.find((s) => s.kind === 3 && s.parentSpanId === chat.spanId);
    expect(upstream).toBeDefined();
    const sql = spans.filter((s) => s.attributes['db.system.name'] ?? s.attributes['db.system']);
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.every((s) => ancestors(s).length > 0)).toBe(true);
    // No message content unless asked for.
    expect(JSON.stringify(spans)).not.toContain('Do traces arrive?');

    // The request's log lines carry its trace id.
    await new Promise((r) => setTimeout(r, 300));
    const lines = api
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { trace_id?: string; msg?: string; req?: { url?: string } });
    const completed = lines.find(
      (l) => l.msg === 'request completed' && l.req?.url?.endsWith('/messages'),
    );
    expect(completed?.trace_id).toBe(chat.traceId);
  });

  it('skips health probes and scrapes', async () => {
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: METRICS_AUTH })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 600));
    expect(
      collector.spans.filter((s) =>
        /\/health|\/metrics/.test(String(s.attributes['url.path'] ?? s.attributes['http.route'])),
      ),
    ).toEqual([]);
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestTenant, type TestUser } from '../support/identity';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { createTestApp, METRICS_AUTH, type TestApp } from '../support/test-app';

/** The value of one sample line of the exposition text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}{`) &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Prometheus metrics on /metrics', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let tenant: TestTenant;
  let member: TestUser;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: 'Metrics are counted.' });
    t = await createTestApp({ env: { WORKERS_IN_PROCESS: 'true', ...fakeLlmEnv(fake.url) } });
    tenant = await createTenant(t.app);
    member = await createUser(tenant);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const scrape = async (headers: Record<string, string> = METRICS_AUTH) => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers });
    return { status: res.statusCode, type: res.headers['content-type'], text: res.body };
  };

  it('counts requests by route template, model calls, tokens, spend and guardrail decisions', async () => {
    const conversation = (await member.client.post('/v1/conversations', {})).body;
    const turn = await member.client.post(`/v1/conversations/${conversation.id}/messages`, {
      content: 'How are metrics counted?',
    });
    expect(turn.status).toBe(201);
    fake.failNext({ kind: 'status', status: 503 });
    expect(
      (
        await member.client.post(`/v1/conversations/${conversation.id}/messages`, {
          content: 'And after a retry?',
        })
      ).status,
    ).toBe(201);

    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(
      sample(text, 'parley_http_request_duration_seconds_count', {
        route: '/v1/conversations/:id/messages',
        method: 'POST',
        status_code: '201',
      }),
    ).toBe(2);
    const model = { provider: 'env', model: 'fake-model' };
    expect(
      sample(text, 'parley_llm_request_duration_seconds_count', { ...model, outcome: 'complete' }),
    ).toBe(2);
    expect(sample(text, 'parley_llm_time_to_first_token_seconds_count', model)).toBe(2);
    expect(sample(text, 'parley_llm_retries_total', { provider: 'env' })).toBe(1);
    expect(sample(text, 'parley_llm_breaker_open', { provider: 'env' })).toBe(0);
    const tokens = { tenant: tenant.id, model: 'fake-model' };
    expect(sample(text, 'parley_llm_tokens_total', { ...tokens, kind: 'prompt' })).toBeGreaterThan(
      0,
    );
    expect(sample(text, 'parley_llm_cost_usd_total', tokens)).toBeGreaterThan(0);
    expect(
      sample(text, 'parley_guardrail_decisions_total', { direction: 'input', decision: 'allow' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'parley_queue_jobs', { queue: 'rag', state: 'waiting' })).toBe(0);
    expect(text).toContain('parley_process_cpu_user_seconds_total');
    // Bounded labels: no user ids, no raw URLs with ids in them.
    expect(text).not.toContain(member.id);
    expect(text).not.toContain(conversation.id);
  });

  it('times retrieval by mode and counts budget refusals by reason', async () => {
    const kb = (await member.client.post('/v1/knowledge-bases', { name: 'metrics' })).body;
    await member.client.post(`/v1/knowledge-bases/${kb.id}/search`, {
      query: 'anything',
      mode: 'lexical',
    });
    const budget = await tenant.admin.client.put('/v1/admin/budgets', {
      budgets: [{ scope: 'user', scopeId: member.id, period: 'day', limitUsd: '0.000001' }],
    });
    expect(budget.status).toBe(200);
    const conversation = (await member.client.post('/v1/conversations', {})).body;
    const refused = await member.client.post(`/v1/conversations/${conversation.id}/messages`, {
      content: 'Over budget?',
    });
    const { text } = await scrape();
    expect(sample(text, 'parley_retrieval_duration_seconds_count', { mode: 'lexical' })).toBe(1);
    expect(refused.status).toBe(402);
    expect(sample(text, 'parley_budget_refusals_total', { reason: 'budget_exceeded' })).toBe(1);
  });
});

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

describe('/metrics is never public by default', () => {
  it('serves nothing on the main port without METRICS_TOKEN, and says which keys to set', async () => {
    // The shipped defaults: no token, no port of its own.
    const t = await createTestApp({ env: { METRICS_TOKEN: '' } });
    try {
      expect(t.config.metrics).toEqual({ port: 0 });
      for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: 'Bearer x' }]) {
        const res = await t.app.inject({ method: 'GET', url: '/metrics', headers });
        expect(res.statusCode).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).not.toContain('parley_http_request_duration_seconds');
        expect(res.json().detail).toMatch(/METRICS_TOKEN.*METRICS_PORT/);
      }
    } finally {
      await t.close();
    }
  });

  it('serves them open on METRICS_PORT when no token is set (a port kept off public Services)', async () => {
    const port = await freePort();
    const t = await createTestApp({
      env: { METRICS_TOKEN: '', METRICS_PORT: String(port), HOST: '127.0.0.1' },
    });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('parley_http_request_duration_seconds');
    } finally {
      await t.close();
    }
  });
});

describe('/metrics behind a token', () => {
  it('asks for METRICS_TOKEN as a bearer token', async () => {
    const t = await createTestApp({ env: { METRICS_TOKEN: 'scrape-secret-0123456789' } });
    try {
      const open = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(open.statusCode).toBe(401);
      const wrong = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.statusCode).toBe(401);
      const right = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer scrape-secret-0123456789' },
      });
      expect(right.statusCode).toBe(200);
      expect(right.body).toContain('parley_http_request_duration_seconds');
    } finally {
      await t.close();
    }
  });
});

describe('/metrics on its own port (METRICS_PORT)', () => {
  it('serves the metrics there, behind the token, and not on the main port', async () => {
    const port = await freePort();
    const t = await createTestApp({
      env: {
        METRICS_PORT: String(port),
        METRICS_TOKEN: 'scrape-secret-0123456789',
        HOST: '127.0.0.1',
      },
    });
    try {
      const main = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer scrape-secret-0123456789' },
      });
      expect(main.statusCode).toBe(404);
      expect(main.json().detail).toContain(`port ${port}`);
      const url = `http://127.0.0.1:${port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const scraped = await fetch(url, {
        headers: { authorization: 'Bearer scrape-secret-0123456789' },
      });
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await scraped.text()).toContain('parley_http_request_duration_seconds');
      expect((await fetch(`http://127.0.0.1:${port}/v1/conversations`)).status).toBe(404);
    } finally {
      await t.close();
    }
    // Closed with the app: the port is free again.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

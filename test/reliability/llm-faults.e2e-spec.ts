import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestTenant, type TestUser } from '../support/identity';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { openEventStream } from '../support/sse-client';
import { createTestApp, METRICS_AUTH, type TestApp } from '../support/test-app';
import { budgetConservation, duplicatesPerRequest, leaks, within } from './invariants';

const REPLY = 'The claim was approved on Monday and the payment leaves on Friday.';

/**
 * The LLM upstream misbehaves in every way the fake can (5xx, 429, hanging, a stream cut or
 * gone silent midway) and a client hangs up mid-stream. After each fault, and once all is
 * quiet: no 500, every refusal a problem+json, no request answered twice, nothing left
 * reserved, spent equal to the ledger, no credential in an error body.
 */
describe('reliability: a misbehaving LLM upstream and clients that hang up', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let tenant: TestTenant;
  let member: TestUser;
  let db: DataSource;
  const API_KEY = 'sk-upstream-secret-0123456789';

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: REPLY });
    t = await createTestApp({
      env: {
        ...fakeLlmEnv(fake.url, { LLM_API_KEY: API_KEY }),
        LLM_TIMEOUT_MS: '500',
        LLM_STREAM_IDLE_TIMEOUT_MS: '400',
      },
    });
    db = t.app.get(DataSource);
    tenant = await createTenant(t.app);
    member = await createUser(tenant);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const ask = async (content = 'Where is my claim?') => {
    const conversation = await member.client.post('/v1/conversations', {});
    return member.client.post(`/v1/conversations/${conversation.body.id}/messages`, { content });
  };
  /** After a run of failures the breaker is open: wait for half-open and close it again. */
  const healBreaker = async () => {
    fake.reset();
    await new Promise((r) => setTimeout(r, 1100));
    const res = await ask();
    expect(res.body.assistantMessage.model).toBe('fake-model');
  };
  const expectSound = (res: Awaited<ReturnType<typeof ask>>) => {
    expect(res.status).not.toBe(500);
    if (res.status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(typeof res.body.code).toBe('string');
    }
    expect(leaks(res.raw, [API_KEY, member.tokens.accessToken])).toEqual([]);
  };

  it('answers through 5xx and 429 with retries, and says so when the provider stays down', async () => {
    fake.failNext({ kind: 'status', status: 503 });
    const retried = await ask();
    expectSound(retried);
    expect(retried.status).toBe(201);
    expect(retried.body.assistantMessage.content).toBe(REPLY);

    fake.failNext({ kind: 'status', status: 429, retryAfterSeconds: 0 });
    const throttled = await ask();
    expectSound(throttled);
    expect(throttled.status).toBe(201);

    // Down for longer than the retries: the extractive responder answers, labelled and free.
    fake.failNext({ kind: 'status', status: 503 }, { times: 10 });
    const down = await ask();
    expectSound(down);
    expect(down.status).toBe(201);
    expect(down.body.assistantMessage.model).toBe('parley-extractive');
    await healBreaker();
  });

  it('cuts a hanging provider at its timeout, and a stream cut or silent midway', async () => {
    fake.failNext({ kind: 'hang' }, { times: 10 });
    const hung = await ask();
    expectSound(hung);
    expect(hung.status).toBe(201); // after the timeouts, the extractive responder
    await healBreaker();

    fake.failNext({ kind: 'drop-mid-stream', afterChunks: 3 });
    const dropped = await ask();
    expectSound(dropped);
    expect(dropped.status).toBe(502);

    fake.failNext({ kind: 'stall-mid-stream', afterChunks: 3 });
    const stalled = await ask();
    expectSound(stalled);
    expect(stalled.status).toBe(504);
  });

  it('stores a turn whose client hung up mid-stream as aborted, and charges only what was generated', async () => {
    fake.configure({ tokenDelayMs: 100 });
    // Several sentences: the output guardrails release the first before the stream ends.
    fake.replyNext(
      'First part. Then a second sentence follows slowly, and a third one after it, and more.',
    );
    const conversation = await member.client.post('/v1/conversations', {});
    const controller = new AbortController();
    const stream = await openEventStream(
      t.app,
      `/v1/conversations/${conversation.body.id}/messages`,
      member.client.credential!,
      { content: 'Tell me slowly' },
      controller.signal,
    );
    await stream.readUntil('event: delta');
    controller.abort();
    await fake.waitForClientAbort();
    await within(
      10_000,
      async () => {
        const list = await member.client.get(`/v1/conversations/${conversation.body.id}/messages`);
        return list.body.items.some(
          (m: { role: string; status: string }) => m.role === 'assistant' && m.status === 'aborted',
        );
      },
      'the aborted turn is stored',
    );
  });

  it('counts a JSON answer whose client hung up as 499, not as a server error', async () => {
    fake.configure({ tokenDelayMs: 100 });
    fake.replyNext('One. Two, slowly. Three, more slowly still, and then some more words.');
    const conversation = await member.client.post('/v1/conversations', {});
    await t.app.listen({ port: 0, host: '127.0.0.1' }).catch(() => undefined);
    const port = (t.app.getHttpServer().address() as { port: number }).port;
    const controller = new AbortController();
    const pending = fetch(
      `http://127.0.0.1:${port}/v1/conversations/${conversation.body.id}/messages`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${member.client.credential}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ content: 'Answer in JSON, slowly' }),
        signal: controller.signal,
      },
    ).catch(() => undefined);
    await fake.waitForRequest((r) => r.path.endsWith('/chat/completions'));
    await new Promise((r) => setTimeout(r, 150));
    controller.abort();
    await pending;
    await fake.waitForClientAbort();
    const route = 'route="/v1/conversations/:id/messages"';
    await within(
      5000,
      async () => {
        const text = (await t.app.inject({ method: 'GET', url: '/metrics', headers: METRICS_AUTH }))
          .body;
        return text.split('\n').some((l) => l.includes(route) && l.includes('status_code="499"'));
      },
      'the disconnect is counted as 499',
    );
    const text = (await t.app.inject({ method: 'GET', url: '/metrics', headers: METRICS_AUTH }))
      .body;
    expect(
      text
        .split('\n')
        .filter((l) => l.startsWith('parley_http_request_duration_seconds_count'))
        .filter((l) => l.includes(route) && l.includes('status_code="500"')),
    ).toEqual([]);
  });

  it('leaves nothing reserved, spent equal to the ledger, and no request answered twice', async () => {
    await within(
      10_000,
      async () => (await budgetConservation(db, tenant.id)).held === 0,
      'every reservation is settled',
    );
    const money = await budgetConservation(db, tenant.id);
    expect(Number(money.reserved)).toBe(0);
    expect(money.spent).toBe(money.ledger);
    expect(Number(money.ledger)).toBeGreaterThan(0);
    expect(await duplicatesPerRequest(db, tenant.id)).toEqual([]);
  });
});

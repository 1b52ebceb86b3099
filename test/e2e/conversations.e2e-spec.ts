import { AUDIO_SEALED_COLUMNS } from '@parley/audio';
import { CONVERSATION_SEALED_COLUMNS } from '@parley/conversation';
import { type AppConfig, KeyRingCipher, rotateKeys } from '@parley/core';
import { TOOLS_SEALED_COLUMNS } from '@parley/tools';
import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import { openEventStream, readSse } from '../support/sse-client';
import {
  Client,
  createApiKey,
  createTenant,
  streamUnchecked,
  createUser,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';

const REPLY = 'The claim was approved on Monday and the payment is on its way.';

describe('conversations and chat turns', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let tenant: TestTenant;
  let member: TestUser;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: REPLY });
    t = await createTestApp({
      env: { LLM_BASE_URL: fake.url, LLM_MODEL: 'fake-model', LLM_API_KEY: 'sk-test' },
    });
    tenant = await createTenant(t.app);
    await streamUnchecked(tenant);
    member = await createUser(tenant);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const newConversation = async (client: Client = member.client) => {
    const res = await client.post('/v1/conversations', { title: 'Claim 4711' });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };

  it('creates, lists, renames and deletes conversations', async () => {
    const created = await member.client.post('/v1/conversations', {
      title: 'First',
      metadata: { channel: 'web' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      title: 'First',
      model: 'default',
      metadata: { channel: 'web' },
      ownerUserId: member.id,
    });
    const { id } = created.body;
    expect(
      (await member.client.get('/v1/conversations')).body.items.map((c: { id: string }) => c.id),
    ).toContain(id);
    const renamed = await member.client.patch(`/v1/conversations/${id}`, { title: 'Renamed' });
    expect(renamed.body.title).toBe('Renamed');
    expect((await member.client.delete(`/v1/conversations/${id}`)).status).toBe(204);
    expect((await member.client.get(`/v1/conversations/${id}`)).status).toBe(404);
    expect((await member.client.get('/v1/conversations')).raw).not.toContain(id);
  });

  it('refuses an unknown model with 400 UNKNOWN_MODEL', async () => {
    const res = await member.client.post('/v1/conversations', { model: 'gpt-nonexistent' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('UNKNOWN_MODEL');
  });

  it('answers a message in JSON, stores both messages with usage, and sends the prompt upstream', async () => {
    const { id } = await newConversation();
    const res = await member.client.post(`/v1/conversations/${id}/messages`, {
      content: 'Where is my claim?',
    });
    expect(res.status).toBe(201);
    const { userMessage, assistantMessage } = res.body;
    expect(userMessage).toMatchObject({
      role: 'user',
      content: 'Where is my claim?',
      status: 'complete',
    });
    expect(assistantMessage).toMatchObject({
      role: 'assistant',
      content: REPLY,
      status: 'complete',
      model: 'fake-model',
      provider: 'env',
      finishReason: 'stop',
    });
    expect(assistantMessage.usage.completionTokens).toBe(REPLY.match(/\S+\s*|\s+/g)!.length);
    expect(assistantMessage.usage.promptTokens).toBeGreaterThan(0);
    expect(assistantMessage.latencyMs).toBeGreaterThanOrEqual(0);

    const upstream = fake.requests.find((r) => r.path.endsWith('/chat/completions'))!;
    expect(upstream.headers.authorization).toBe('Bearer sk-test');
    expect(upstream.body.model).toBe('fake-model');
    expect(upstream.body.messages[0].role).toBe('system');
    expect(upstream.body.messages.at(-1)).toEqual({ role: 'user', content: 'Where is my claim?' });

    const listed = await member.client.get(`/v1/conversations/${id}/messages`);
    expect(listed.body.items.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    // What the POST answered is exactly what was stored.
    expect(listed.body.items).toEqual([userMessage, assistantMessage]);
  });

  it('carries the earlier turns as memory', async () => {
    const { id } = await newConversation();
    await member.client.post(`/v1/conversations/${id}/messages`, { content: 'My name is Ada.' });
    fake.reset();
    await member.client.post(`/v1/conversations/${id}/messages`, { content: 'What is my name?' });
    const sent = fake.requests.find((r) => r.path.endsWith('/chat/completions'))!.body.messages;
    expect(sent.map((m: { role: string; content: string }) => `${m.role}:${m.content}`)).toEqual([
      expect.stringMatching(/^system:/),
      'user:My name is Ada.',
      `assistant:${REPLY}`,
      'user:What is my name?',
    ]);
  });

  it('streams the answer as Server-Sent Events in order', async () => {
    const { id } = await newConversation();
    fake.configure({ tokenDelayMs: 5 });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.getHttpServer().address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}/v1/conversations/${id}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${member.client.credential}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body: JSON.stringify({ content: 'Stream it' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const events = readSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('start');
    expect(names.slice(-2)).toEqual(['usage', 'done']);
    expect(names.slice(1, -2).every((n) => n === 'delta')).toBe(true);
    expect(names.filter((n) => n === 'delta').length).toBeGreaterThan(3);
    expect(events[0]!.data).toEqual({ provider: 'env', model: 'fake-model', extractive: false });
    const text = events
      .filter((e) => e.event === 'delta')
      .map((e) => (e.data as { text: string }).text)
      .join('');
    expect(text).toBe(REPLY);
    expect(
      (events.at(-1)!.data as { assistantMessage: { content: string } }).assistantMessage.content,
    ).toBe(REPLY);
  });

  it('stops generating when the client disconnects and stores the partial answer as aborted', async () => {
    const { id } = await newConversation();
    fake.configure({ tokenDelayMs: 150 });
    const controller = new AbortController();
    const stream = await openEventStream(
      t.app,
      `/v1/conversations/${id}/messages`,
      member.client.credential!,
      { content: 'Take your time' },
      controller.signal,
    );
    await stream.readUntil('event: delta');
    controller.abort();
    const aborted = await fake.waitForClientAbort();
    expect(aborted.path).toMatch(/chat\/completions$/);

    let stored: { status: string; content: string } | undefined;
    for (let i = 0; i < 50 && !stored; i++) {
      const list = await member.client.get(`/v1/conversations/${id}/messages`);
      stored = list.body.items.find((m: { role: string }) => m.role === 'assistant');
      if (!stored) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored!.status).toBe('aborted');
    expect(stored!.content.length).toBeGreaterThan(0);
    expect(REPLY.startsWith(stored!.content)).toBe(true);
    expect(stored!.content.length).toBeLessThan(REPLY.length);
  });

  it('retries a 429 and a 503 from the provider and still answers', async () => {
    const { id } = await newConversation();
    fake.failNext({ kind: 'status', status: 429, retryAfterSeconds: 0 });
    fake.failNext({ kind: 'status', status: 503 });
    const res = await member.client.post(`/v1/conversations/${id}/messages`, { content: 'Hello?' });
    expect(res.status).toBe(201);
    expect(res.body.assistantMessage.content).toBe(REPLY);
    expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(3);
  });

  describe('prompt templates', () => {
    it('renders the template into the system prompt and records template, version and variant', async () => {
      const created = await member.client.post('/v1/conversations', {
        promptTemplate: 'support',
        templateVariables: { company: 'Acme Insurance' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        promptTemplate: 'support',
        templateVariables: { company: 'Acme Insurance' },
      });
      const first = await member.client.post(`/v1/conversations/${created.body.id}/messages`, {
        content: 'Hi',
      });
      const prompt = first.body.assistantMessage.prompt;
      expect(prompt).toMatchObject({ template: 'support', version: '1' });
      expect(['baseline', 'empathetic']).toContain(prompt.variant);
      const system = fake.requests.at(-1)!.body.messages[0];
      expect(system.role).toBe('system');
      expect(system.content).toContain('customer support assistant of Acme Insurance');
      expect(system.content).toContain('friendly and concise'); // the default of `tone`
      expect(system.content).not.toMatch(/\{\{/);
      // The same conversation keeps its variant.
      const second = await member.client.post(`/v1/conversations/${created.body.id}/messages`, {
        content: 'Again',
      });
      expect(second.body.assistantMessage.prompt).toEqual(prompt);
    });

    it('refuses an unknown template, a missing required variable and an unknown variable', async () => {
      const unknown = await member.client.post('/v1/conversations', { promptTemplate: 'nope' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.code).toBe('UNKNOWN_PROMPT_TEMPLATE');
      const missing = await member.client.post('/v1/conversations', { promptTemplate: 'support' });
      expect(missing.status).toBe(400);
      expect(missing.body.detail).toMatch(/company is required/);
      const extra = await member.client.post('/v1/conversations', {
        promptTemplate: 'support',
        templateVariables: { company: 'A', colour: 'red' },
      });
      expect(extra.body.detail).toMatch(/colour is not a variable/);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the stored answer for a repeated key without calling the model again', async () => {
      const { id } = await newConversation();
      const headers = { 'idempotency-key': 'turn-0001' };
      const first = await member.client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'Once only' },
        headers,
      );
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await member.client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'Once only' },
        headers,
      );
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(1);
      const stored = await member.client.get(`/v1/conversations/${id}/messages`);
      expect(stored.body.items).toHaveLength(2);
    });

    it('refuses the same key with another body (422) and while the first is still running (409)', async () => {
      const { id } = await newConversation();
      const headers = { 'idempotency-key': 'turn-0002' };
      await member.client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'First body' },
        headers,
      );
      const other = await member.client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'Other body' },
        headers,
      );
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');

      fake.configure({ ttftMs: 300 });
      const slowHeaders = { 'idempotency-key': 'turn-0003' };
      const running = member.client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'Slow' },
        slowHeaders,
      );
      await fake.waitForRequest(
        (r) => r.path.endsWith('/chat/completions') && r.body.messages.at(-1).content === 'Slow',
      );
      const concurrent = await member.client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'Slow' },
        slowHeaders,
      );
      expect(concurrent.status).toBe(409);
      expect(concurrent.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      expect((await running).status).toBe(201);
    });

    it('frees the key when the request fails, so it can be retried', async () => {
      const { id } = await newConversation();
      const headers = { 'idempotency-key': 'turn-0004' };
      fake.failNext({ kind: 'status', status: 400 });
      expect(
        (await member.client.post(`/v1/conversations/${id}/messages`, { content: 'Try' }, headers))
          .status,
      ).toBe(502);
      const retry = await member.client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'Try' },
        headers,
      );
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    });
  });

  describe('tenancy', () => {
    it('answers 404 for another tenant’s conversation, and for another member’s; admins see the tenant’s', async () => {
      const { id } = await newConversation();
      const other = await createTenant(t.app);
      for (const res of [
        await other.admin.client.get(`/v1/conversations/${id}`),
        await other.admin.client.post(`/v1/conversations/${id}/messages`, { content: 'hi' }),
        await other.admin.client.get(`/v1/conversations/${id}/messages`),
        await other.admin.client.patch(`/v1/conversations/${id}`, { title: 'x' }),
        await other.admin.client.delete(`/v1/conversations/${id}`),
      ]) {
        expect(res.status).toBe(404);
      }
      const colleague = await createUser(tenant);
      expect((await colleague.client.get(`/v1/conversations/${id}`)).status).toBe(404);
      expect((await tenant.admin.client.get(`/v1/conversations/${id}`)).status).toBe(200);
      expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(0);
    });

    it('lets an API key with the chat scope converse, and refuses one without it', async () => {
      const chatKey = await createApiKey(member.client, ['chat']);
      const bot = new Client(t.app, chatKey.key);
      const { id } = await newConversation(bot);
      expect((await bot.post(`/v1/conversations/${id}/messages`, { content: 'hi' })).status).toBe(
        201,
      );
      const audioKey = await createApiKey(member.client, ['audio']);
      expect((await new Client(t.app, audioKey.key).post('/v1/conversations', {})).status).toBe(
        403,
      );
    });
  });

  it('refuses a message that is too long, with nothing stored and no upstream call', async () => {
    const { id } = await newConversation();
    const res = await member.client.post(`/v1/conversations/${id}/messages`, {
      content: 'x'.repeat(32_001),
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MESSAGE_TOO_LONG');
    const rows = await t.app
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1', [id]);
    expect(rows[0].n).toBe(0);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('message encryption at rest', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let tenant: TestTenant;
  const k1 = Buffer.alloc(32, 1).toString('base64');
  const k2 = Buffer.alloc(32, 2).toString('base64');
  const SECRET_REPLY = 'Account 998877 balance is 1234 euros.';

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: SECRET_REPLY });
  });
  afterAll(() => fake?.close());

  it('stores content unreadable in the table, readable through the API, across a key rotation', async () => {
    const database = await createTestDatabase();
    const env = { LLM_BASE_URL: fake.url, LLM_MODEL: 'fake-model' };
    try {
      t = await createTestApp({ database, env: { ...env, MESSAGE_ENCRYPTION_KEYS: `k1:${k1}` } });
      tenant = await createTenant(t.app);
      const { body: conversation } = await tenant.admin.client.post('/v1/conversations', {});
      const sent = await tenant.admin.client.post(
        `/v1/conversations/${conversation.id}/messages`,
        { content: 'What is the balance of account 998877?' },
        { 'idempotency-key': 'enc-1' },
      );
      expect(sent.body.assistantMessage.content).toBe(SECRET_REPLY);
      const rows = await t.app
        .get(DataSource)
        .query('SELECT content FROM messages WHERE conversation_id = $1', [conversation.id]);
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(row.content).toMatch(/^enc:v2:k1:/);
      const tables =
        JSON.stringify(rows) +
        JSON.stringify(await t.app.get(DataSource).query('SELECT response FROM idempotency_keys'));
      expect(tables).not.toMatch(/998877|1234 euros/);
      await t.close();

      // Rotate: a new key encrypts; the old one still decrypts what it wrote.
      t = await createTestApp({
        database,
        env: { ...env, MESSAGE_ENCRYPTION_KEYS: `k2:${k2},k1:${k1}` },
      });
      const admin = new Client(t.app, tenant.admin.client.credential);
      await admin.post(`/v1/conversations/${conversation.id}/messages`, { content: 'And now?' });
      const listed = await admin.get(`/v1/conversations/${conversation.id}/messages`);
      expect(listed.body.items.map((m: { content: string }) => m.content)).toEqual([
        'What is the balance of account 998877?',
        SECRET_REPLY,
        'And now?',
        SECRET_REPLY,
      ]);
      // The memory sent upstream was decrypted too.
      const last = fake.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!;
      expect(last.body.messages.map((m: { content: string }) => m.content)).toContain(
        'What is the balance of account 998877?',
      );
      const newest = await t.app
        .get(DataSource)
        .query(`SELECT content FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1`, [
          conversation.id,
        ]);
      expect(newest[0].content).toMatch(/^enc:v2:k2:/);
    } finally {
      await t?.close();
      await database.drop();
    }
  });

  it('refuses clear text once keys are set, and keys:rotate re-encrypts everything so old keys can go', async () => {
    const database = await createTestDatabase();
    const env = { LLM_BASE_URL: fake.url, LLM_MODEL: 'fake-model' };
    try {
      t = await createTestApp({ database, env: { ...env, MESSAGE_ENCRYPTION_KEYS: `k1:${k1}` } });
      tenant = await createTenant(t.app);
      const { body: conversation } = await tenant.admin.client.post('/v1/conversations', {});
      const url = `/v1/conversations/${conversation.id}/messages`;
      await tenant.admin.client.post(url, { content: 'What is the balance of account 998877?' });
      const db = t.app.get(DataSource);
      // What a row written before keys were set looks like, or one planted by someone who can
      // write the table: clear text.
      await db.query(
        `UPDATE messages SET content = 'planted in clear' WHERE conversation_id = $1 AND role = 'user'`,
        [conversation.id],
      );
      const refused = await tenant.admin.client.get(url);
      expect([refused.status, refused.body.code]).toEqual([500, 'PLAINTEXT_AT_REST']);
      expect(JSON.stringify(refused.body)).not.toContain('planted');

      // Rotate to k2 (k1 still in the ring to read), as `npm run keys:rotate` does.
      const ring = new KeyRingCipher({
        security: {
          messageEncryptionKeys: [
            { kid: 'k2', key: k2 },
            { kid: 'k1', key: k1 },
          ],
        },
      } as AppConfig);
      const columns = [
        ...CONVERSATION_SEALED_COLUMNS,
        ...AUDIO_SEALED_COLUMNS,
        ...TOOLS_SEALED_COLUMNS,
      ];
      const query = (sql: string, params: unknown[]) => db.query(sql, params);
      const first = await rotateKeys(query, ring, columns, { batchSize: 1 });
      expect(first.find((p) => p.table === 'messages' && p.column === 'content')).toMatchObject({
        examined: 2,
        resealed: 2,
      });
      // Resumable: a second run finds nothing left to do.
      const again = await rotateKeys(query, ring, columns);
      expect(again.every((p) => p.resealed === 0)).toBe(true);
      await t.close();

      // Only k2 now: everything still reads.
      t = await createTestApp({ database, env: { ...env, MESSAGE_ENCRYPTION_KEYS: `k2:${k2}` } });
      const admin = new Client(t.app, tenant.admin.client.credential);
      const listed = await admin.get(url);
      expect(listed.body.items.map((m: { content: string }) => m.content)).toEqual([
        'planted in clear',
        SECRET_REPLY,
      ]);
      const stored = await t.app
        .get(DataSource)
        .query('SELECT content FROM messages WHERE conversation_id = $1', [conversation.id]);
      for (const row of stored) expect(row.content).toMatch(/^enc:v2:k2:/);
    } finally {
      await t?.close();
      await database.drop();
    }
  });
});

describe('response cache', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let tenant: TestTenant;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: 'Opening hours are 9 to 5.' });
    t = await createTestApp({
      env: { LLM_BASE_URL: fake.url, LLM_MODEL: 'fake-model', RESPONSE_CACHE_ENABLED: 'true' },
    });
    tenant = await createTenant(t.app);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const firstQuestion = async (client: Client, content: string) => {
    const { body: conversation } = await client.post('/v1/conversations', {});
    return (await client.post(`/v1/conversations/${conversation.id}/messages`, { content })).body
      .assistantMessage;
  };
  const calls = () => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

  it('answers an identical first question from the cache, marked cached and free', async () => {
    const first = await firstQuestion(tenant.admin.client, 'What are your opening hours?');
    expect(first).toMatchObject({ cached: false, content: 'Opening hours are 9 to 5.' });
    const second = await firstQuestion(tenant.admin.client, '  what are your   OPENING hours? ');
    expect(second).toMatchObject({
      cached: true,
      costUsd: '0.000000000',
      content: 'Opening hours are 9 to 5.',
      model: 'fake-model',
    });
    expect(calls()).toBe(1);
  });

  it('does not share answers across tenants, and never answers from cache once there is history', async () => {
    const other = await createTenant(t.app);
    const before = calls();
    expect((await firstQuestion(other.admin.client, 'What are your opening hours?')).cached).toBe(
      false,
    );
    expect(calls()).toBe(before + 1);

    const { body: conversation } = await tenant.admin.client.post('/v1/conversations', {});
    await tenant.admin.client.post(`/v1/conversations/${conversation.id}/messages`, {
      content: 'Hello',
    });
    const followUp = await tenant.admin.client.post(
      `/v1/conversations/${conversation.id}/messages`,
      {
        content: 'What are your opening hours?',
      },
    );
    expect(followUp.body.assistantMessage.cached).toBe(false);
  });
});

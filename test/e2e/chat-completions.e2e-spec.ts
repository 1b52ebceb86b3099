import OpenAI, { APIError } from 'openai';
import { FakeLlm } from '../support/fake-llm';
import { Client, createApiKey, createTenant, type TestTenant } from '../support/identity';
import { openAiClientFor } from '../support/openai-client';
import { createTestApp, type TestApp } from '../support/test-app';

const REPLY = 'Your booking for two nights is confirmed.';

describe('POST /v1/chat/completions with the official openai client', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let tenant: TestTenant;
  let client: OpenAI;
  let bot: Client;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: REPLY });
    t = await createTestApp({
      env: { LLM_BASE_URL: fake.url, LLM_MODEL: 'fake-model', LLM_API_KEY: 'sk-upstream' },
    });
    tenant = await createTenant(t.app);
    const { key } = await createApiKey(tenant.admin.client, ['chat']);
    bot = new Client(t.app, key);
    client = await openAiClientFor(t, key);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('answers a non-streaming request', async () => {
    const completion = await client.chat.completions.create({
      model: 'default',
      messages: [
        { role: 'developer', content: 'You are a booking assistant.' },
        { role: 'user', content: 'Is my booking confirmed?' },
      ],
      max_tokens: 100,
      temperature: 0.2,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: REPLY });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.model).toBe('fake-model');
    expect(completion.usage!.completion_tokens).toBe(REPLY.match(/\S+\s*|\s+/g)!.length);
    expect(completion.usage!.total_tokens).toBe(
      completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
    );
    const upstream = fake.requests.find((r) => r.path.endsWith('/chat/completions'))!;
    expect(upstream.headers.authorization).toBe('Bearer sk-upstream');
    expect(upstream.body.messages).toEqual([
      // The system prompt carries the prompt-leak canary of the default guardrail policy.
      {
        role: 'system',
        content: expect.stringMatching(
          /^You are a booking assistant\.\n\n\(Confidential reference pc-/,
        ),
      },
      { role: 'user', content: 'Is my booking confirmed?' },
    ]);
    expect(upstream.body.max_tokens).toBe(100);
  });

  it('streams chunks in order, with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'default',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(REPLY);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish!.choices[0]!.finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBe(REPLY.match(/\S+\s*|\s+/g)!.length);
  });

  it('stores the exchange in a conversation when metadata.conversation_id is given', async () => {
    // The conversation belongs to the same caller (the API key).
    const conversation = await bot.post('/v1/conversations', {});
    await client.chat.completions.create({
      model: 'default',
      messages: [{ role: 'user', content: 'Remember this.' }],
      metadata: { conversation_id: conversation.body.id },
    });
    const messages = await bot.get(`/v1/conversations/${conversation.body.id}/messages`);
    expect(
      messages.body.items.map((m: { role: string; content: string }) => `${m.role}:${m.content}`),
    ).toEqual(['user:Remember this.', `assistant:${REPLY}`]);
  });

  it('replays a repeated Idempotency-Key without calling the model, streamed or not', async () => {
    const params = {
      model: 'default',
      messages: [{ role: 'user' as const, content: 'Book it once' }],
    };
    const options = { headers: { 'Idempotency-Key': 'book-0001' } };
    const first = await client.chat.completions.create(params, options);
    const again = await client.chat.completions.create(params, options).withResponse();
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(again.data.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    expect(again.data.usage).toEqual(first.usage);
    const streamed = await client.chat.completions.create({ ...params, stream: true }, options);
    let text = '';
    for await (const c of streamed) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe(REPLY);
    expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(1);
  });

  it('reports errors in a form the client understands', async () => {
    const error = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).message).toMatch(/no model or alias "no-such-model"/);
    expect((error as APIError).code).toBe('UNKNOWN_MODEL');

    const bad = await client.chat.completions
      .create({ model: 'default', messages: [] })
      .catch((e: unknown) => e);
    expect((bad as APIError).status).toBe(400);

    const unauth = new OpenAI({ baseURL: client.baseURL, apiKey: 'pk_wrong', maxRetries: 0 });
    const denied = await unauth.chat.completions
      .create({ model: 'default', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect((denied as APIError).status).toBe(401);
  });

  it('refuses a message over CHAT_MAX_MESSAGE_CHARS in any position, before any work on it', async () => {
    // 900,000 letters without a space once froze the process for minutes in token counting.
    const calls = fake.requests.length;
    const res = await bot.post('/v1/chat/completions', {
      model: 'default',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'x'.repeat(900_000) }] },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'MESSAGE_TOO_LONG',
      errors: [{ field: 'messages.1.content' }],
    });
    expect(res.body.detail).toMatch(/CHAT_MAX_MESSAGE_CHARS/);
    expect(fake.requests.length).toBe(calls);

    // Up to the limit a long unbroken word is counted and answered like any text.
    const long = await bot.post('/v1/chat/completions', {
      model: 'default',
      messages: [{ role: 'user', content: 'y'.repeat(t.config.conversation.maxMessageChars) }],
    });
    expect(long.status).toBe(200);
    expect(long.body.choices[0].message.content).toBe(REPLY);
  });
});

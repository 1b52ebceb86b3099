import OpenAI, { APIError, toFile } from 'openai';
import { FakeLlm } from './index';

const DEFAULT_PIECES = ['Hello ', 'from ', 'the ', 'fake ', 'model.'];

describe('FakeLlm, driven by the official openai client', () => {
  let fake: FakeLlm;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await FakeLlm.start();
    client = new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  const ask = (content: string) => [{ role: 'user' as const, content }];

  it('answers a chat completion with the default reply and word-based usage', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Say hello please' }] },
      ],
    });

    expect(completion.id).toMatch(/^chatcmpl-fake-\d+$/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-test');
    expect(completion.choices[0].message).toMatchObject({
      role: 'assistant',
      content: 'Hello from the fake model.',
    });
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
  });

  it('streams one chunk per token, then the finish reason and the usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: ask('Hi there'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const pieces = chunks.slice(1).flatMap((c) => c.choices.map((ch) => ch.delta.content ?? ''));
    expect(pieces.filter(Boolean)).toEqual(DEFAULT_PIECES);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  });

  it('truncates to max_tokens with finish_reason length', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-test',
      messages: ask('Hi'),
      max_tokens: 2,
    });
    expect(completion.choices[0].message.content).toBe('Hello from ');
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(2);
  });

  it('plays scripted replies in order, per model', async () => {
    fake.replyNext('only for b', { model: 'model-b' });
    fake.replyNext('first', { times: 2 });
    const text = async (model: string) =>
      (await client.chat.completions.create({ model, messages: ask('x') })).choices[0].message
        .content;

    expect(await text('model-a')).toBe('first');
    expect(await text('model-b')).toBe('only for b');
    expect(await text('model-b')).toBe('first');
    expect(await text('model-a')).toBe('Hello from the fake model.');
  });

  it('surfaces a queued 429 with Retry-After as an APIError, then recovers', async () => {
    fake.failNext({ kind: 'status', status: 429, retryAfterSeconds: 7 });
    const error = await client.chat.completions
      .create({ model: 'gpt-test', messages: ask('Hi') })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(429);
    expect(apiError.headers?.get('retry-after')).toBe('7');
    expect(apiError.code).toBe('rate_limit_exceeded');

    const ok = await client.chat.completions.create({ model: 'gpt-test', messages: ask('Hi') });
    expect(ok.choices[0].finish_reason).toBe('stop');
  });

  it('applies a model-scoped fault only to that model', async () => {
    fake.failNext({ kind: 'status', status: 503 }, { model: 'flaky' });
    await expect(
      client.chat.completions.create({ model: 'steady', messages: ask('Hi') }),
    ).resolves.toBeDefined();
    await expect(
      client.chat.completions.create({ model: 'flaky', messages: ask('Hi') }),
    ).rejects.toMatchObject({ status: 503 });
  });

  it('makes stream iteration throw when the connection drops mid-stream', async () => {
    fake.failNext({ kind: 'drop-mid-stream', afterChunks: 2 });
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: ask('Hi'),
      stream: true,
    });
    const seen: string[] = [];
    const iterate = async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    };

    await expect(iterate()).rejects.toThrow();
    expect(seen.filter(Boolean)).toEqual(DEFAULT_PIECES.slice(0, 2));
    expect(fake.requests[0].clientAborted).toBe(false);
  });

  it('hangs until the client aborts, and records the abort', async () => {
    fake.failNext({ kind: 'hang' });
    const controller = new AbortController();
    const pending = client.chat.completions.create(
      { model: 'gpt-test', messages: ask('Hi') },
      { signal: controller.signal },
    );
    pending.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile

    await fake.waitForRequest((r) => r.path === '/v1/chat/completions');
    controller.abort();

    await expect(pending).rejects.toThrow();
    const aborted = await fake.waitForClientAbort(2000);
    expect(aborted.body.model).toBe('gpt-test');
    expect(aborted.finishedAt).toBeUndefined();
  });

  it('waits ttftMs before answering', async () => {
    fake.configure({ ttftMs: 150 });
    const started = Date.now();
    await client.chat.completions.create({ model: 'gpt-test', messages: ask('Hi') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('spaces streamed tokens by tokenDelayMs after a ttftMs wait', async () => {
    fake.configure({ ttftMs: 60, tokenDelayMs: 30 });
    const started = Date.now();
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: ask('Hi'),
      stream: true,
    });
    const arrivals: number[] = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) arrivals.push(Date.now() - started);
    }
    expect(arrivals).toHaveLength(5);
    expect(arrivals[0]).toBeGreaterThanOrEqual(55);
    expect(arrivals[4] - arrivals[0]).toBeGreaterThanOrEqual(4 * 30 - 10);
  });

  it('returns deterministic, normalised embeddings where shared words mean similar vectors', async () => {
    const texts = ['the cat sat on the mat', 'the cat sat on a rug', 'quarterly bond yields'];
    const first = await client.embeddings.create({ model: 'embed-test', input: texts });
    const again = await client.embeddings.create({ model: 'embed-test', input: texts[0] });

    expect(first.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [a, b, c] = first.data.map((d) => d.embedding);
    expect(a).toHaveLength(64);
    expect(again.data[0].embedding).toEqual(a);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0);
    expect(dot(a, a)).toBeCloseTo(1, 6);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    expect(first.usage).toEqual({ prompt_tokens: 15, total_tokens: 15 });

    const small = await client.embeddings.create({
      model: 'embed-test',
      input: 'hello',
      dimensions: 16,
      encoding_format: 'float',
    });
    expect(small.data[0].embedding).toHaveLength(16);
  });

  it('flags violent text in moderation, and only that', async () => {
    const result = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: ['I will kill them all', 'What a lovely day'],
    });
    expect(result.results[0].flagged).toBe(true);
    expect(result.results[0].categories.violence).toBe(true);
    expect(result.results[0].category_scores.violence).toBeGreaterThan(0.5);
    expect(result.results[1].flagged).toBe(false);
  });

  it('synthesises speech as a WAV file', async () => {
    const response = await client.audio.speech.create({
      model: 'tts-test',
      input: 'Hello there',
      voice: 'alloy',
      response_format: 'wav',
    });
    const bytes = Buffer.from(await response.arrayBuffer());

    expect(response.headers.get('content-type')).toBe('audio/wav');
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
    // 11 characters * 50 ms at 16 kHz, 2 bytes a sample, plus the 44-byte header.
    expect(bytes.length).toBe(44 + 0.55 * 16_000 * 2);
  });

  it('transcribes an uploaded file and records the form fields', async () => {
    const file = await toFile(Buffer.alloc(3200), 'clip.wav', { type: 'audio/wav' });
    const plain = await client.audio.transcriptions.create({ model: 'whisper-test', file });
    expect(plain.text).toBe('fake transcription');

    fake.replyNext('bonjour', { model: 'whisper-test' });
    const verbose = await client.audio.transcriptions.create({
      model: 'whisper-test',
      file: await toFile(Buffer.alloc(32_000), 'clip.wav', { type: 'audio/wav' }),
      language: 'fr',
      response_format: 'verbose_json',
    });
    expect(verbose).toMatchObject({ text: 'bonjour', language: 'fr', duration: 1, segments: [] });

    expect(fake.requests[0].body).toEqual({
      fields: { model: 'whisper-test' },
      fileBytes: 3200,
      fileName: 'clip.wav',
    });
  });

  it('records every request with its body and headers, in order', async () => {
    await client.chat.completions.create({ model: 'gpt-test', messages: ask('one') });
    await client.embeddings.create({ model: 'embed-test', input: 'two' });

    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/chat/completions',
      'POST /v1/embeddings',
    ]);
    const [chat] = fake.requests;
    expect(chat.body).toMatchObject({ model: 'gpt-test', messages: ask('one') });
    expect(chat.headers.authorization).toBe('Bearer test');
    expect(chat.clientAborted).toBe(false);
    expect(chat.finishedAt).toBeGreaterThanOrEqual(chat.receivedAt);
  });

  it('lists fake-model and the models seen so far', async () => {
    await client.chat.completions.create({ model: 'gpt-seen', messages: ask('Hi') });
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['fake-model', 'gpt-seen']);
  });

  const errorOf = async (res: Response) => ((await res.json()) as { error: any }).error;

  it('answers OpenAI-style 401 without a bearer token and 404 for unknown routes', async () => {
    const noAuth = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'x', messages: [] }),
    });
    expect(noAuth.status).toBe(401);
    expect(await errorOf(noAuth)).toMatchObject({ code: 'invalid_api_key' });

    const unknown = await fetch(`${fake.url}/nowhere`, { headers: { authorization: 'Bearer t' } });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).type).toBe('invalid_request_error');
  });

  it('ends hanging requests when it closes', async () => {
    const other = await FakeLlm.start({ reply: 'bye' });
    const otherClient = new OpenAI({ baseURL: other.url, apiKey: 'test', maxRetries: 0 });
    other.failNext({ kind: 'hang' });
    const pending = otherClient.chat.completions.create({ model: 'm', messages: ask('Hi') });
    pending.catch(() => undefined);
    await other.waitForRequest();

    await other.close();
    await expect(pending).rejects.toThrow();
    expect(other.requests[0].clientAborted).toBe(false);
  });
});

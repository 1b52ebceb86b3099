import { join } from 'node:path';
import { loadConfig, Metrics, type ResolvedProvider } from '@parley/core';
import { LlmGateway } from './llm-gateway.service';
import {
  CallerAbortedError,
  LlmRequestRejectedError,
  LlmStreamInterruptedError,
  LlmStreamStalledError,
} from './llm.errors';
import type { ChatStreamEvent } from './llm.types';
import { ModelRouter } from './model-router.service';
import { type AnswerPiece, ChatModel, ChatModelFactory } from './ports/chat-model.port';
import { ProviderRegistry } from './provider.registry';

/** A provider's failure as an in-memory adapter reports it. */
class FakeFailure extends Error {
  constructor(readonly status?: number) {
    super(`fake failure ${status ?? 'network'}`);
  }
}

type Script = {
  fail?: FakeFailure;
  pieces?: AnswerPiece[][];
  /** After this many chunks the stream goes silent until aborted. */
  hangAfter?: number;
  /** After this many chunks the connection breaks. */
  breakAfter?: number;
};

/** The in-memory adapter: each call plays the next script of its provider. */
class InMemoryModel extends ChatModel {
  calls = 0;
  constructor(
    readonly provider: string,
    private readonly scripts: Script[],
  ) {
    super();
  }

  async stream(_model: string, _request: unknown, signal: AbortSignal) {
    const script = this.scripts[Math.min(this.calls++, this.scripts.length - 1)]!;
    if (script.fail) throw script.fail;
    const chunks = [...(script.pieces ?? [])];
    let served = 0;
    return {
      next: () =>
        script.breakAfter !== undefined && served >= script.breakAfter
          ? Promise.reject(new FakeFailure())
          : script.hangAfter !== undefined && served >= script.hangAfter
            ? new Promise<IteratorResult<AnswerPiece[]>>((_, reject) => {
                if (signal.aborted) reject(new Error('aborted'));
                signal.addEventListener('abort', () => reject(new Error('aborted')));
              })
            : Promise.resolve(
                served < chunks.length
                  ? { value: chunks[served++]! }
                  : ({ done: true, value: undefined } as IteratorResult<AnswerPiece[]>),
              ),
    };
  }
  async embed() {
    return { vectors: [] };
  }
  async moderate() {
    return {};
  }
  isTransient(error: unknown) {
    const status = (error as FakeFailure).status;
    return status === undefined || status === 429 || status >= 500;
  }
  refusedStatus(error: unknown) {
    return this.isTransient(error) ? undefined : (error as FakeFailure).status;
  }
  retryAfterMs() {
    return 0;
  }
  isAbort() {
    return false;
  }
}

const ANSWER: AnswerPiece[][] = [
  [{ type: 'delta', text: 'Hello' }],
  [
    { type: 'delta', text: ' there' },
    { type: 'finish', reason: 'stop' },
  ],
  [{ type: 'usage', usage: { promptTokens: 7, completionTokens: 2 } }],
];

/** A gateway over two in-memory providers, `a` then `b` behind the alias `chat`. */
function gateway(scripts: { a: Script[]; b: Script[] }, idleMs = 5_000) {
  const config = loadConfig({ env: {}, configDir: join(__dirname, '../../../config') });
  const providers: ResolvedProvider[] = ['a', 'b'].map((name) => ({
    name,
    baseUrl: `http://${name}.invalid/v1`,
    timeoutMs: 1_000,
    models: ['m'],
  }));
  Object.assign(config.llm, {
    resolvedProviders: providers,
    resolvedAliases: { chat: ['a/m', 'b/m'] },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    streamIdleTimeoutMs: idleMs,
  });
  const models = { a: new InMemoryModel('a', scripts.a), b: new InMemoryModel('b', scripts.b) };
  const factory = new (class extends ChatModelFactory {
    create(p: ResolvedProvider) {
      return models[p.name as 'a' | 'b'];
    }
  })();
  const metrics = new Metrics();
  const registry = new ProviderRegistry(config, metrics, factory);
  return { llm: new LlmGateway(new ModelRouter(config), registry, metrics, config), models };
}

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const seen: ChatStreamEvent[] = [];
  for await (const e of events) seen.push(e);
  return seen;
}

const request = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('LlmGateway over the ChatModel port', () => {
  it('streams an answer in Parley’s events, with the provider’s finish reason and usage', async () => {
    const { llm } = gateway({ a: [{ pieces: ANSWER }], b: [] });
    expect(await collect(llm.stream(request))).toEqual([
      { type: 'start', responder: { provider: 'a', model: 'm', extractive: false } },
      { type: 'delta', text: 'Hello' },
      { type: 'delta', text: ' there' },
      { type: 'done', finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 2 } },
    ]);
  });

  it('retries a transient failure, then falls back to the next deployment of the chain', async () => {
    const { llm, models } = gateway({
      a: [{ fail: new FakeFailure(503) }],
      b: [{ pieces: ANSWER }],
    });
    const events = await collect(llm.stream(request));
    expect(events[0]).toEqual({
      type: 'start',
      responder: { provider: 'b', model: 'm', extractive: false },
    });
    expect(models.a.calls).toBe(2); // RETRY maxAttempts
    expect(models.b.calls).toBe(1);
  });

  it('neither retries nor falls back on a refusal: the provider’s 4xx is the answer', async () => {
    const { llm, models } = gateway({
      a: [{ fail: new FakeFailure(400) }],
      b: [{ pieces: ANSWER }],
    });
    await expect(collect(llm.stream(request))).rejects.toBeInstanceOf(LlmRequestRejectedError);
    expect(models.a.calls).toBe(1);
    expect(models.b.calls).toBe(0);
  });

  it('hands over to the extractive responder when no deployment can answer', async () => {
    const { llm } = gateway({ a: [{ fail: new FakeFailure() }], b: [{ fail: new FakeFailure() }] });
    const events = await collect(llm.stream(request));
    expect(events[0]).toMatchObject({ type: 'start', responder: { extractive: true } });
    expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'stop' });
  });

  it('counts the usage itself when the provider sends none', async () => {
    const { llm } = gateway({ a: [{ pieces: ANSWER.slice(0, 2) }], b: [] });
    const done = (await collect(llm.stream(request))).at(-1);
    expect(done).toMatchObject({ type: 'done', usage: { completionTokens: expect.any(Number) } });
    expect((done as { usage: { promptTokens: number } }).usage.promptTokens).toBeGreaterThan(0);
  });

  it('cuts a stream that goes silent after its first token, and one that breaks', async () => {
    const stalled = gateway({ a: [{ pieces: ANSWER, hangAfter: 1 }], b: [] }, 50).llm;
    await expect(collect(stalled.stream(request))).rejects.toBeInstanceOf(LlmStreamStalledError);

    const broken = gateway({ a: [{ pieces: ANSWER, breakAfter: 1 }], b: [] }).llm;
    await expect(collect(broken.stream(request))).rejects.toBeInstanceOf(LlmStreamInterruptedError);
  });

  it('reports a caller that went away as aborted, not as a provider failure', async () => {
    const { llm } = gateway({ a: [{ pieces: ANSWER, hangAfter: 1 }], b: [] });
    const abort = new AbortController();
    const events = llm.stream(request, abort.signal);
    await events.next();
    await events.next();
    const next = events.next();
    abort.abort();
    await expect(next).rejects.toBeInstanceOf(CallerAbortedError);
  });
});

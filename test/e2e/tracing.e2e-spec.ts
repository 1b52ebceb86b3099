import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import {
  setCaptureMessageContent,
  shutdownTelemetry,
  startTelemetry,
  tracer,
} from '@parley/core/telemetry';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { speechEnginesInstalled } from '../support/audio';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestUser } from '../support/identity';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Span names and attributes of the pipeline, the GenAI calls, tools and jobs, read from an
 * in-memory exporter. (The auto-instrumentations patch modules as they load, which Jest's
 * module loader bypasses; tracing-export.e2e-spec.ts checks them on the real process.)
 */
describe('tracing: pipeline, GenAI, tool and job spans', () => {
  const exporter = new InMemorySpanExporter();
  let fake: FakeLlm;
  let t: TestApp;
  let member: TestUser;
  const audioDir = mkdtempSync(join(tmpdir(), 'parley-trace-audio-'));

  beforeAll(async () => {
    startTelemetry({
      serviceName: 'parley-test',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    fake = await FakeLlm.start({ reply: 'Spans are named by step.' });
    t = await createTestApp({
      env: { WORKERS_IN_PROCESS: 'true', AUDIO_STORAGE_DIR: audioDir, ...fakeLlmEnv(fake.url) },
    });
    member = await createUser(await createTenant(t.app));
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await shutdownTelemetry();
    rmSync(audioDir, { recursive: true, force: true });
  });
  beforeEach(() => exporter.reset());

  /** Runs `fn` under a root span (as the HTTP span would be) and returns that trace's spans. */
  const traced = async <T>(fn: () => Promise<T>) => {
    let traceId = '';
    const result = await tracer().startActiveSpan('test.request', async (span) => {
      traceId = span.spanContext().traceId;
      try {
        return await fn();
      } finally {
        span.end();
      }
    });
    const spans = () =>
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    return { result, spans };
  };
  const parentOf = (span: ReadableSpan, all: ReadableSpan[]) =>
    all.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
  const named = (all: ReadableSpan[], name: string) => all.filter((s) => s.name === name);

  const conversation = async (body: Record<string, unknown> = {}) =>
    (await member.client.post('/v1/conversations', body)).body.id as string;

  it('gives each step of a chat turn its span, and the model call GenAI attributes without content', async () => {
    const id = await conversation();
    const { result, spans } = await traced(() =>
      member.client.post(`/v1/conversations/${id}/messages`, {
        content: 'Which spans does a turn make?',
        maxTokens: 200,
      }),
    );
    expect(result.status).toBe(201);
    const all = spans();
    for (const step of [
      'parley.auth',
      'parley.chat.turn',
      'parley.guardrails.input',
      'parley.budget.reserve',
      'chat fake-model',
      'parley.persist',
    ])
      expect(named(all, step)).toHaveLength(1);
    const [turn] = named(all, 'parley.chat.turn');
    for (const step of [
      'parley.guardrails.input',
      'parley.budget.reserve',
      'chat fake-model',
      'parley.persist',
    ])
      expect(parentOf(named(all, step)[0]!, all)?.name).toBe('parley.chat.turn');
    expect(turn!.attributes['gen_ai.conversation.id']).toBe(id);

    const [chat] = named(all, 'chat fake-model');
    expect(chat!.kind).toBe(2); // CLIENT
    expect(chat!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'env',
      'gen_ai.provider.name': 'env',
      'gen_ai.request.model': 'fake-model',
      'gen_ai.request.max_tokens': 200,
      'gen_ai.response.model': 'fake-model',
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(chat!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(chat!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    const text = JSON.stringify(all.map((s) => s.attributes));
    expect(text).not.toContain('Which spans');
    expect(text).not.toContain('Spans are named');
  });

  it('records prompts and answers on the GenAI span only when content capture is enabled', async () => {
    const id = await conversation();
    setCaptureMessageContent(true);
    try {
      const { spans } = await traced(() =>
        member.client.post(`/v1/conversations/${id}/messages`, { content: 'Capture this one.' }),
      );
      const [chat] = named(spans(), 'chat fake-model');
      expect(String(chat!.attributes['gen_ai.input.messages'])).toContain('Capture this one.');
      expect(JSON.parse(String(chat!.attributes['gen_ai.output.messages']))).toEqual([
        { role: 'assistant', parts: [{ type: 'text', content: 'Spans are named by step.' }] },
      ]);
    } finally {
      setCaptureMessageContent(false);
    }
  });

  it('marks a refused model call and a failed turn as errors', async () => {
    const id = await conversation();
    fake.failNext({ kind: 'status', status: 400 });
    const { result, spans } = await traced(() =>
      member.client.post(`/v1/conversations/${id}/messages`, { content: 'This call is refused.' }),
    );
    expect(result.status).toBeGreaterThanOrEqual(400);
    const all = spans();
    const [chat] = named(all, 'chat fake-model');
    expect(chat!.status.code).toBe(2); // ERROR
    const [turn] = named(all, 'parley.chat.turn');
    expect(turn!.status.code).toBe(2);
    expect(turn!.attributes['error.type']).toBe(result.body.code);
    expect(named(all, 'parley.budget.settle')).toHaveLength(1);
  });

  it('traces each tool call as execute_tool inside the turn', async () => {
    const id = await conversation({ tools: ['current_time'] });
    fake.toolCallsNext([{ name: 'current_time', arguments: { timeZone: 'Europe/Paris' } }]);
    const { result, spans } = await traced(() =>
      member.client.post(`/v1/conversations/${id}/messages`, { content: 'What time is it?' }),
    );
    expect(result.status).toBe(201);
    const all = spans();
    const [tool] = named(all, 'execute_tool current_time');
    expect(tool).toBeDefined();
    expect(tool!.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'current_time',
      'parley.tool.status': 'ok',
    });
    expect(typeof tool!.attributes['gen_ai.tool.call.id']).toBe('string');
    expect(named(all, 'chat fake-model').length).toBe(2); // the call, then the answer
  });

  (speechEnginesInstalled ? it : it.skip)(
    'links a job to the request that queued it, with its steps inside the job span',
    async () => {
      const { result } = await traced(() =>
        member.client.post('/v1/audio/speech?wait=60', { text: 'Jobs are traced.', format: 'wav' }),
      );
      expect(result.status).toBe(200);
      // The worker's job span ends just after the job's completion reached the request: wait
      // for it (and the step inside it) to be exported.
      let all = exporter.getFinishedSpans();
      const jobSpanDone = () => {
        all = exporter.getFinishedSpans();
        const [step] = named(all, 'parley.speech.synthesize');
        return step !== undefined && parentOf(step, all) !== undefined;
      };
      for (let i = 0; i < 100 && !jobSpanDone(); i++) await new Promise((r) => setTimeout(r, 50));
      const [speak] = named(all, 'parley.speech.synthesize');
      expect(speak).toBeDefined();
      expect(speak!.attributes['parley.speech.model']).toBe('espeak-ng');
      // BullMQ's spans: the producer's in the request's trace; the worker's span carries on
      // that trace (or links to it) and holds the step.
      const job = parentOf(speak!, all);
      expect(job?.name).toMatch(/audio\.tts/);
      const producer = all.find((s) => /audio\.tts/.test(s.name) && s.kind === 3 /* PRODUCER */);
      expect(producer).toBeDefined();
      const sameTrace = job!.spanContext().traceId === producer!.spanContext().traceId;
      const linked = job!.links.some((l) => l.context.traceId === producer!.spanContext().traceId);
      expect(sameTrace || linked).toBe(true);
    },
  );
});

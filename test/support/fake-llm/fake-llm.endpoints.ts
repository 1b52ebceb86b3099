/** What each /v1 endpoint answers. Routing, auth, faults and recording live in the server. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { estimatedDurationSeconds, speechWav } from './fake-llm.audio';
import { DEFAULT_DIMENSIONS, embed } from './fake-llm.embeddings';
import { delay, sendBytes, sendJson, write } from './fake-llm.http';
import { moderate } from './fake-llm.moderation';
import type { MultipartSummary } from './fake-llm.multipart';
import {
  chatChunk,
  chatCompletion,
  embeddingList,
  errorBody,
  modelList,
  moderationResponse,
  nowSeconds,
  sseData,
  usage,
  type ChatIdentity,
} from './fake-llm.responses';
import type { ResolvedOptions, ScriptedToolCall } from './fake-llm.scenarios';
import { countTokens, limitTokens, promptTokens, textParts, tokenize } from './fake-llm.tokens';

export const DEFAULT_TRANSCRIPTION = 'fake transcription';
export const FAKE_MODEL = 'fake-model';

export interface EndpointContext {
  req: IncomingMessage;
  res: ServerResponse;
  body: any;
  /** options as they were when the request arrived */
  options: ResolvedOptions;
  /** aborted when the client goes away or the server closes */
  signal: AbortSignal;
  /** request number, for ids */
  seq: number;
  /** set by a drop-mid-stream fault on a streaming chat request */
  dropAfterChunks?: number;
  /** set by a stall-mid-stream fault: after this many chunks, send nothing more */
  stallAfterChunks?: number;
  /** destroys the socket on purpose (not counted as a client abort) */
  drop(): void;
  takeReply(model: string | undefined): string | undefined;
  takeToolCalls(model: string | undefined): ScriptedToolCall[] | undefined;
  seenModels(): string[];
}

export type Endpoint = (ctx: EndpointContext) => Promise<void>;

function badRequest(ctx: EndpointContext, message: string): void {
  sendJson(ctx.res, 400, errorBody(message, 'invalid_request_error', null));
}

export const chatCompletions: Endpoint = async (ctx) => {
  const { body } = ctx;
  if (typeof body?.model !== 'string') return badRequest(ctx, 'you must provide a model parameter');
  if (!Array.isArray(body.messages)) return badRequest(ctx, "'messages' is a required property");

  // With tool_choice "none" a model answers in words; scripted calls wait for a later request.
  const scriptedCalls = body.tool_choice === 'none' ? undefined : ctx.takeToolCalls(body.model);
  if (scriptedCalls) return toolCallReply(ctx, scriptedCalls);
  const reply = ctx.takeReply(body.model) ?? ctx.options.reply;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const { pieces, truncated } = limitTokens(tokenize(reply), maxTokens);
  const finishReason = truncated ? 'length' : 'stop';
  const fixed = ctx.options.usage;
  const omitUsage = fixed !== null && 'omit' in fixed;
  const tokens =
    fixed && !('omit' in fixed)
      ? {
          ...usage(fixed.prompt, fixed.completion),
          ...(fixed.cached !== undefined
            ? { prompt_tokens_details: { cached_tokens: fixed.cached } }
            : {}),
        }
      : usage(promptTokens(body.messages), pieces.length);
  const who: ChatIdentity = {
    id: `chatcmpl-fake-${ctx.seq}`,
    created: nowSeconds(),
    model: body.model,
  };

  if (body.stream !== true) {
    if (!(await delay(ctx.options.ttftMs, ctx.signal))) return;
    const completion = chatCompletion(who, pieces.join(''), finishReason, tokens);
    if (omitUsage) delete (completion as { usage?: unknown }).usage;
    return sendJson(ctx.res, 200, completion);
  }

  const { res } = ctx;
  const includeUsage = body.stream_options?.include_usage === true && !omitUsage;
  const perChunkUsage = includeUsage ? null : undefined;
  // Headers go out at once, as with the real API; the time to first token is spent after them.
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (!(await delay(ctx.options.ttftMs, ctx.signal))) return;
  const role = chatChunk(
    who,
    { delta: { role: 'assistant', content: '' }, finishReason: null },
    perChunkUsage,
  );
  if (!(await write(res, sseData(role)))) return;

  for (let i = 0; i < pieces.length; i++) {
    if (i === ctx.dropAfterChunks) return ctx.drop();
    if (i === ctx.stallAfterChunks) return; // the connection stays open, silent
    if (i > 0 && !(await delay(ctx.options.tokenDelayMs, ctx.signal))) return;
    const chunk = chatChunk(
      who,
      { delta: { content: pieces[i] }, finishReason: null },
      perChunkUsage,
    );
    if (!(await write(res, sseData(chunk)))) return;
  }
  // A drop after more chunks than the reply has still cuts the stream before it finishes.
  if (ctx.dropAfterChunks !== undefined) return ctx.drop();

  let tail = sseData(chatChunk(who, { delta: {}, finishReason }, perChunkUsage));
  if (includeUsage) tail += sseData(chatChunk(who, null, tokens));
  tail += sseData('[DONE]');
  res.end(tail);
};

/** A reply that calls tools: ids `call_<seq>_<n>`, finish_reason `tool_calls`. */
async function toolCallReply(ctx: EndpointContext, scripted: ScriptedToolCall[]): Promise<void> {
  const { body, res } = ctx;
  if (!Array.isArray(body.tools) || body.tools.length === 0)
    return badRequest(ctx, 'the fake was scripted to call tools, but the request sent no tools');
  const calls = scripted.map((c, i) => ({
    id: `call_${ctx.seq}_${i}`,
    type: 'function' as const,
    function: {
      name: c.name,
      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
    },
  }));
  const tokens = usage(
    promptTokens(body.messages),
    calls.reduce((n, c) => n + countTokens(c.function.arguments) + 1, 0),
  );
  const who: ChatIdentity = {
    id: `chatcmpl-fake-${ctx.seq}`,
    created: nowSeconds(),
    model: body.model,
  };
  if (!(await delay(ctx.options.ttftMs, ctx.signal))) return;
  if (body.stream !== true) {
    const completion = chatCompletion(who, '', 'tool_calls', tokens);
    const message = completion.choices[0]!.message as Record<string, unknown>;
    message.content = null;
    message.tool_calls = calls;
    return sendJson(res, 200, completion);
  }
  const includeUsage = body.stream_options?.include_usage === true;
  const perChunkUsage = includeUsage ? null : undefined;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let out = sseData(
    chatChunk(
      who,
      { delta: { role: 'assistant', content: null }, finishReason: null },
      perChunkUsage,
    ),
  );
  calls.forEach((c, index) => {
    const half = Math.ceil(c.function.arguments.length / 2);
    out += sseData(
      chatChunk(
        who,
        {
          delta: {
            tool_calls: [
              {
                index,
                id: c.id,
                type: 'function',
                function: { name: c.function.name, arguments: c.function.arguments.slice(0, half) },
              },
            ],
          },
          finishReason: null,
        },
        perChunkUsage,
      ),
    );
    out += sseData(
      chatChunk(
        who,
        {
          delta: {
            tool_calls: [{ index, function: { arguments: c.function.arguments.slice(half) } }],
          },
          finishReason: null,
        },
        perChunkUsage,
      ),
    );
  });
  out += sseData(chatChunk(who, { delta: {}, finishReason: 'tool_calls' }, perChunkUsage));
  if (includeUsage) out += sseData(chatChunk(who, null, tokens));
  res.end(out + sseData('[DONE]'));
}

/** Strings pass through; token-id arrays (which the real API accepts) become their text. */
function inputTexts(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((x) => typeof x === 'number')) return [input.join(' ')];
  return input.map((x) => (Array.isArray(x) ? x.join(' ') : String(x)));
}

export const embeddings: Endpoint = async (ctx) => {
  const { body } = ctx;
  const texts = inputTexts(body?.input);
  if (!texts) return badRequest(ctx, "'input' must be a string or a non-empty array");
  const dimensions = body.dimensions ?? DEFAULT_DIMENSIONS;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) {
    return badRequest(ctx, "'dimensions' must be an integer between 1 and 4096");
  }
  if (!(await delay(ctx.options.ttftMs, ctx.signal))) return;
  // Floats even when base64 was asked for: the openai client accepts both.
  const vectors = texts.map((t) => embed(t, dimensions));
  const tokens = texts.reduce((n, t) => n + countTokens(t), 0);
  sendJson(ctx.res, 200, embeddingList(body.model ?? FAKE_MODEL, vectors, tokens));
};

export const moderations: Endpoint = async (ctx) => {
  const input = ctx.body?.input;
  let texts: string[];
  if (typeof input === 'string') texts = [input];
  else if (Array.isArray(input) && input.every((x) => typeof x === 'string')) texts = input;
  // A multimodal array ({type:'text'}, {type:'image_url'}) is one input with one result.
  else if (Array.isArray(input)) texts = [textParts(input).join(' ')];
  else return badRequest(ctx, "'input' must be a string or an array");
  if (!(await delay(ctx.options.ttftMs, ctx.signal))) return;
  const model = ctx.body.model ?? 'omni-moderation-latest';
  sendJson(ctx.res, 200, moderationResponse(`modr-fake-${ctx.seq}`, model, texts.map(moderate)));
};

export const speech: Endpoint = async (ctx) => {
  const input = ctx.body?.input;
  if (typeof input !== 'string' || input.length === 0) {
    return badRequest(ctx, "'input' must be a non-empty string");
  }
  if (!(await delay(ctx.options.ttftMs, ctx.signal))) return;
  sendBytes(ctx.res, 200, speechWav(input), 'audio/wav');
};

export const transcriptions: Endpoint = async (ctx) => {
  const form = ctx.body as MultipartSummary | undefined;
  if (form?.fields === undefined) return badRequest(ctx, 'expected multipart/form-data');
  if (form.fileBytes === undefined) return badRequest(ctx, "'file' is a required property");
  const { model, language, response_format: format } = form.fields;
  if (!model) return badRequest(ctx, "'model' is a required property");
  const text = ctx.takeReply(model) ?? DEFAULT_TRANSCRIPTION;
  if (!(await delay(ctx.options.ttftMs, ctx.signal))) return;
  if (format === 'text' || format === 'srt' || format === 'vtt') {
    return sendBytes(ctx.res, 200, Buffer.from(text), 'text/plain; charset=utf-8');
  }
  if (format === 'verbose_json') {
    const duration = estimatedDurationSeconds(form.fileBytes);
    return sendJson(ctx.res, 200, {
      text,
      language: language ?? 'english',
      duration,
      segments: [],
    });
  }
  sendJson(ctx.res, 200, { text });
};

export const models: Endpoint = async (ctx) => {
  sendJson(
    ctx.res,
    200,
    modelList([FAKE_MODEL, ...ctx.seenModels().filter((m) => m !== FAKE_MODEL)]),
  );
};

import { Body, Controller, Headers, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { AppConfig, AppError, OpenAiErrors, toAppError, ValidationFailedError } from '@parley/core';
import { CostService, type UsageOutcome } from '@parley/cost';
import {
  CallerAbortedError,
  type ChatMessage,
  type ChatRequest,
  LlmGateway,
  type Responder,
  type TokenUsage,
  type ToolCall,
  type ToolChoice,
} from '@parley/llm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConversationsService } from '../conversations.service';
import {
  ChatCompletionRequestDto,
  type ChatCompletionMessageDto,
} from '../dto/chat-completions.dto';
import { ChatPipeline, HISTORY_LIMIT, type TurnEvent } from '../pipeline/chat-pipeline.service';
import { abortOnDisconnect, SseStream } from '../pipeline/sse';
import { ChatMetering } from '../pipeline/chat-metering';
import { TurnGuards } from '../pipeline/turn-guard';
import { IdempotencyService } from '../idempotency/idempotency.service';

type Event =
  | { type: 'start'; responder: Responder }
  | { type: 'delta'; text: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'done'; usage: TokenUsage; finishReason: string };

/**
 * OpenAI-compatible chat completions, so the official `openai` client and tools built on it
 * work against Parley with a base URL and an API key. The request passes the same auth and
 * limits as every chat route; with `metadata.conversation_id` it becomes a turn of that
 * conversation (its stored history is the memory), otherwise the given messages are sent as
 * they are. Either way the call is admitted against the caller's budgets first and lands in
 * the usage ledger.
 */
@ApiTags('openai-compatible')
@RateLimit('chat')
@Authorize({ role: 'member', scope: 'chat' })
@Controller('v1/chat')
export class ChatCompletionsController {
  private readonly logger = new Logger('ChatCompletions');

  constructor(
    private readonly llm: LlmGateway,
    private readonly pipeline: ChatPipeline,
    private readonly conversations: ConversationsService,
    private readonly principal: CurrentPrincipal,
    private readonly config: AppConfig,
    private readonly idempotency: IdempotencyService,
    private readonly metering: ChatMetering,
    private readonly cost: CostService,
    private readonly guards: TurnGuards,
  ) {}

  @Post('completions')
  @OpenAiErrors()
  @HttpCode(200)
  @ApiOperation({
    summary: 'OpenAI-compatible chat completions (JSON, or SSE chunks with `stream: true`).',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({
    description:
      'A `chat.completion` object, or `chat.completion.chunk` events ending with `[DONE]`.',
  })
  async create(
    @Body() body: ChatCompletionRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const abort = abortOnDisconnect(reply);
    const principal = this.principal.get();
    const id = `chatcmpl-${String(request.id)
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 32)}`;
    const created = Math.floor(Date.now() / 1000);
    // The stored result does not depend on stream/stream_options: a replay may use either form.
    const { stream: _stream, stream_options: _options, ...identity } = body;
    const claim = idempotencyKey
      ? await this.idempotency.claim<Completion>(
          principal,
          idempotencyKey,
          'POST /v1/chat/completions',
          identity,
        )
      : undefined;
    let events: AsyncIterable<Event>;
    if (claim?.kind === 'replay') {
      reply.header('idempotent-replayed', 'true');
      events = replayCompletion(claim.response);
    } else {
      events = await this.events(body, String(request.id), abort.signal);
    }
    const answer = {
      id,
      created,
      model: '',
      text: '',
      finish: 'stop',
      usage: { promptTokens: 0, completionTokens: 0 },
      toolCalls: [] as ToolCall[],
    };
    const tracked = async function* (this: ChatCompletionsController): AsyncGenerator<Event> {
      try {
        for await (const e of events) {
          if (e.type === 'start') answer.model = e.responder.model;
          else if (e.type === 'delta') answer.text += e.text;
          else if (e.type === 'tool_call') addToolCallPiece(answer.toolCalls, e);
          else {
            answer.finish = openAiFinish(e.finishReason);
            answer.usage = e.usage;
            if (idempotencyKey && claim?.kind === 'new')
              await this.idempotency.complete(principal, idempotencyKey, toCompletion(answer));
          }
          yield e;
        }
      } catch (error) {
        if (idempotencyKey && claim?.kind === 'new')
          await this.idempotency.release(principal, idempotencyKey);
        throw error;
      }
    }.call(this);

    if (!body.stream) {
      for await (const _ of tracked);
      return toCompletion(answer);
    }
    // Errors before the first event answer as JSON; after that they end the stream.
    const first = await tracked.next();
    const sse = new SseStream(reply);
    // OpenAI's stream is unnamed `data:` events; `[DONE]` is sent as it is, not as JSON.
    const write = (data: unknown) =>
      sse.data(typeof data === 'string' ? data : JSON.stringify(data));
    const includeUsage = Boolean(body.stream_options?.include_usage);
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: answer.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      ...(includeUsage ? { usage: null } : {}),
    });
    try {
      for (let step = first; !step.done; step = await tracked.next()) {
        const e = step.value;
        if (e.type === 'start') write(chunk({ role: 'assistant', content: '' }, null));
        else if (e.type === 'delta') write(chunk({ content: e.text }, null));
        else if (e.type === 'tool_call')
          write(
            chunk(
              {
                tool_calls: [
                  {
                    index: e.index,
                    ...(e.id ? { id: e.id, type: 'function' } : {}),
                    function: { ...(e.name ? { name: e.name } : {}), arguments: e.arguments },
                  },
                ],
              },
              null,
            ),
          );
        else {
          write(chunk({}, openAiFinish(e.finishReason)));
          if (includeUsage) write({ ...chunk({}, null), choices: [], usage: usageOf(e.usage) });
        }
      }
      write('[DONE]');
    } catch (error) {
      const problem = toAppError(error);
      write({
        error: { message: problem.message, type: problem.code.toLowerCase(), code: problem.code },
      });
    } finally {
      sse.end();
    }
  }

  private async events(
    body: ChatCompletionRequestDto,
    requestId: string,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Event>> {
    const messages = body.messages.map((m, i) => toChatMessage(m, i));
    const maxTokens =
      body.max_completion_tokens ?? body.max_tokens ?? this.config.conversation.defaultMaxTokens;
    const conversationId = body.metadata?.conversation_id;
    const principal = this.principal.get();
    const tools = toTools(body);
    if (!conversationId) {
      // The same guardrails as a conversation turn: every user message and every tool result
      // (untrusted text too) is checked and redacted, the first system message carries the
      // leak canary, the answer is checked.
      const system = messages.find((m) => m.role === 'system');
      const users = messages.filter((m) => m.role === 'user' || m.role === 'tool');
      const guard = await this.guards.begin(
        principal.tenantId,
        users.map((m) => m.content),
        system?.content,
      );
      const sent = messages.map((m) =>
        m === system
          ? { ...m, content: guard.system! }
          : m.role === 'user' || m.role === 'tool'
            ? { ...m, content: guard.texts[users.indexOf(m)]! }
            : m,
      );
      const admission = await this.metering.admit(
        principal,
        requestId,
        body.model,
        sent,
        maxTokens,
        { tools: tools?.tools },
      );
      const { llm, cost, metering, logger } = this;
      const started = Date.now();
      return (async function* () {
        let responder: Responder | undefined;
        let text = '';
        let usage: TokenUsage | undefined;
        let status: UsageOutcome['status'] = 'aborted';
        try {
          const upstream = llm.stream(
            {
              model: body.model,
              messages: sent,
              maxTokens,
              temperature: body.temperature,
              user: body.user,
              ...tools,
            },
            AbortSignal.any([signal, guard.abort.signal]),
          );
          for await (const e of guard.guard(upstream)) {
            if (e.type === 'start') responder = e.responder;
            else if (e.type === 'delta') text += e.text;
            else if (e.type === 'tool_call') text += e.arguments;
            else usage = e.usage;
            yield e;
          }
          status = 'complete';
        } catch (error) {
          status = error instanceof CallerAbortedError ? 'aborted' : 'failed';
          throw error;
        } finally {
          // Settled however the call ended, including a client that stopped reading.
          const outcome = metering.outcome({
            responder,
            messages: sent,
            text,
            usage,
            status,
            latencyMs: Date.now() - started,
          });
          await cost
            .settle(admission, outcome)
            .catch((e: Error) => logger.error(`could not settle a completion: ${e.message}`));
        }
      })();
    }
    if (tools)
      throw new ValidationFailedError([
        {
          field: 'tools',
          messages: [
            'tools cannot be combined with metadata.conversation_id: send the whole exchange without it to run your own tools',
          ],
        },
      ]);
    const { conversation, history } = await this.conversations.getForTurn(
      principal,
      String(conversationId),
      HISTORY_LIMIT,
    );
    const last = messages[messages.length - 1]!;
    if (last.role !== 'user')
      throw new AppError(
        'BAD_REQUEST',
        400,
        'With metadata.conversation_id the last message must be the user’s new message.',
      );
    const turn = this.pipeline.run(
      {
        principal,
        conversation,
        content: last.content,
        model: body.model,
        maxTokens,
        temperature: body.temperature,
        requestId,
        history,
      },
      signal,
    );
    return (async function* (): AsyncGenerator<Event> {
      for await (const e of turn as AsyncGenerator<TurnEvent>) {
        if (e.type === 'done')
          yield {
            type: 'done',
            usage: e.assistantMessage.usage,
            finishReason: e.assistantMessage.finishReason ?? 'stop',
          };
        // Parley's own tool calls are its business; the OpenAI client sees the answer.
        else if (e.type === 'start' || e.type === 'delta') yield e;
      }
    })();
  }
}

function toChatMessage(m: ChatCompletionMessageDto, index: number): ChatMessage {
  const invalid = (field: string, message: string) =>
    new ValidationFailedError([{ field: `messages.${index}.${field}`, messages: [message] }]);
  let content: string;
  if (typeof m.content === 'string') content = m.content;
  else if (
    Array.isArray(m.content) &&
    m.content.every((p) => typeof p === 'object' && p !== null && typeof p.type === 'string')
  ) {
    content = m.content
      .map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : ''))
      .join('');
  } else if ((m.content === null || m.content === undefined) && m.tool_calls?.length) {
    content = ''; // an assistant message that only calls tools
  } else {
    throw invalid('content', 'content must be a string or an array of {type, text} parts');
  }
  if (m.tool_calls?.length && m.role !== 'assistant')
    throw invalid('tool_calls', 'only assistant messages carry tool_calls');
  if (m.role === 'tool') {
    if (!m.tool_call_id)
      throw invalid('tool_call_id', 'a tool message needs the tool_call_id of the call it answers');
    return { role: 'tool', content, toolCallId: m.tool_call_id };
  }
  if (m.role === 'assistant' && m.tool_calls?.length)
    return {
      role: 'assistant',
      content,
      toolCalls: m.tool_calls.map((c) => ({
        id: c.id,
        name: c.function.name,
        arguments: c.function.arguments,
      })),
    };
  return { role: m.role === 'developer' ? 'system' : m.role, content };
}

/** The client's own tools for the gateway, or undefined when it sent none. */
function toTools(
  body: ChatCompletionRequestDto,
): Pick<ChatRequest, 'tools' | 'toolChoice' | 'parallelToolCalls'> | undefined {
  const choice = body.tool_choice;
  if (!body.tools?.length) {
    if (choice !== undefined && choice !== 'none' && choice !== 'auto')
      throw new ValidationFailedError([
        { field: 'tool_choice', messages: ['tool_choice names a tool, but tools is empty'] },
      ]);
    return undefined;
  }
  const tools = body.tools.map((t) => ({ ...t.function }));
  const names = new Set(tools.map((t) => t.name));
  if (names.size !== tools.length)
    throw new ValidationFailedError([
      { field: 'tools', messages: ['each tool needs a name of its own'] },
    ]);
  let toolChoice: ToolChoice | undefined;
  if (choice === undefined || choice === 'none' || choice === 'auto' || choice === 'required')
    toolChoice = choice;
  else if (
    typeof choice === 'object' &&
    choice !== null &&
    choice.type === 'function' &&
    typeof choice.function?.name === 'string' &&
    names.has(choice.function.name)
  )
    toolChoice = { name: choice.function.name };
  else
    throw new ValidationFailedError([
      {
        field: 'tool_choice',
        messages: [
          'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": <one of tools>}}',
        ],
      },
    ]);
  return { tools, toolChoice, parallelToolCalls: body.parallel_tool_calls };
}

/** Adds one streamed piece to the calls it belongs to (by index). */
function addToolCallPiece(
  calls: ToolCall[],
  piece: { index: number; id?: string; name?: string; arguments: string },
): void {
  const call = (calls[piece.index] ??= { id: '', name: '', arguments: '' });
  if (piece.id) call.id = piece.id;
  if (piece.name) call.name += piece.name;
  call.arguments += piece.arguments;
}

interface Completion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: null;
      tool_calls?: {
        id: string;
        type: 'function';
        function: { name: string; arguments: string };
      }[];
    };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  system_fingerprint: null;
}

function toCompletion(a: {
  id: string;
  created: number;
  model: string;
  text: string;
  finish: string;
  usage: TokenUsage;
  toolCalls: ToolCall[];
}): Completion {
  const calls = a.toolCalls.filter(Boolean);
  return {
    id: a.id,
    object: 'chat.completion',
    created: a.created,
    model: a.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI sends null content on a message that only calls tools.
          content: a.text === '' && calls.length > 0 ? null : a.text,
          refusal: null,
          ...(calls.length > 0
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id,
                  type: 'function' as const,
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
        finish_reason: a.finish,
        logprobs: null,
      },
    ],
    usage: usageOf(a.usage),
    system_fingerprint: null,
  };
}

/** A stored completion, as the events of a live one. */
async function* replayCompletion(c: Completion): AsyncGenerator<Event> {
  yield {
    type: 'start',
    responder: { provider: 'parley', model: c.model, extractive: c.model === 'parley-extractive' },
  };
  const message = c.choices[0]!.message;
  if (message.content) yield { type: 'delta', text: message.content };
  for (const [index, call] of (message.tool_calls ?? []).entries())
    yield {
      type: 'tool_call',
      index,
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    };
  yield {
    type: 'done',
    finishReason: c.choices[0]!.finish_reason,
    usage: { promptTokens: c.usage.prompt_tokens, completionTokens: c.usage.completion_tokens },
  };
}

const openAiFinish = (reason: string): string =>
  reason === 'length' || reason === 'content_filter' || reason === 'tool_calls' ? reason : 'stop';

const usageOf = (u: TokenUsage) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.promptTokens + u.completionTokens,
});

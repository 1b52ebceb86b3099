import { Body, Controller, Headers, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { AppConfig, AppError, OpenAiErrors, toAppError, ValidationFailedError } from '@parley/core';
import { CostService, type UsageOutcome } from '@parley/cost';
import {
  addToolCallPiece,
  CallerAbortedError,
  LlmGateway,
  type Responder,
  type TokenUsage,
  type ToolCall,
} from '@parley/llm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConversationsService } from '../conversations.service';
import { ChatCompletionRequestDto } from '../dto/chat-completions.dto';
import {
  type Completion,
  type Event,
  openAiFinish,
  replayCompletion,
  toChatMessage,
  toCompletion,
  toTools,
  usageOf,
} from './openai-shapes';
import { ChatPipeline, HISTORY_LIMIT, type TurnEvent } from '../pipeline/chat-pipeline.service';
import { abortOnDisconnect, SseStream } from '../pipeline/sse';
import { ChatMetering } from '../pipeline/chat-metering';
import { TurnGuards } from '../pipeline/turn-guard';
import { IdempotencyService } from '../idempotency/idempotency.service';

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
    const maxChars = this.config.conversation.maxMessageChars;
    const messages = body.messages.map((m, i) => toChatMessage(m, i, maxChars));
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
      throw ValidationFailedError.field(
        'tools',
        'tools cannot be combined with metadata.conversation_id: send the whole exchange without it to run your own tools',
      );
    const { conversation, history, paused } = await this.conversations.getForTurn(
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
        paused,
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

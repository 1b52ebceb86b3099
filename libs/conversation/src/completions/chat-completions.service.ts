import { Injectable } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { AppConfig, Clock, ValidationFailedError } from '@parley/core';
import { LastMessageNotUserError } from '../conversation.errors';
import {
  addToolCallPiece,
  CallerAbortedError,
  type ChatMessage,
  LlmGateway,
  type Responder,
  type TokenUsage,
} from '@parley/llm';
import type { ChatCompletionRequestDto } from '../dto/chat-completions.dto';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { ChatTurns } from '../pipeline/chat-turns.service';
import { TurnGuards } from '../pipeline/turn-guards.service';
import { TurnLedgers } from '../pipeline/turn-ledger.service';
import {
  type Completion,
  type CompletionAnswer,
  type Event,
  openAiFinish,
  replayCompletion,
  toChatMessage,
  toCompletion,
  toTools,
} from './openai-shapes';

/** One completion request: who asks, under which ids. */
export interface CompletionCall {
  principal: Principal;
  requestId: string;
  /** The `chatcmpl-…` id of the answer. */
  completionId: string;
  idempotencyKey?: string;
}

/**
 * The OpenAI-compatible flow behind `/v1/chat/completions`: an idempotent repeat is replayed;
 * with `metadata.conversation_id` the request is a turn of that conversation (ChatTurns);
 * otherwise the given messages are guarded, admitted against the caller's budgets, sent as they
 * are, and settled however the call ends. The controller only maps the events to OpenAI's JSON
 * or chunks.
 */
@Injectable()
export class ChatCompletions {
  constructor(
    private readonly llm: LlmGateway,
    private readonly turns: ChatTurns,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly idempotency: IdempotencyService,
    private readonly ledgers: TurnLedgers,
    private readonly guards: TurnGuards,
  ) {}

  async start(
    call: CompletionCall,
    body: ChatCompletionRequestDto,
    signal: AbortSignal,
  ): Promise<{ replayed: boolean; events: AsyncGenerator<Event>; answer: CompletionAnswer }> {
    const { principal, idempotencyKey } = call;
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
    const answer: CompletionAnswer = {
      id: call.completionId,
      created: Math.floor(this.clock.now().getTime() / 1000),
      model: '',
      text: '',
      finish: 'stop',
      usage: { promptTokens: 0, completionTokens: 0 },
      toolCalls: [],
    };
    if (claim?.kind === 'replay')
      return { replayed: true, events: track(replayCompletion(claim.response), answer), answer };
    const events = await this.events(call, body, signal).catch(async (error: unknown) => {
      // Refused before it began (a guardrail, a budget, a missing conversation): the key is free.
      if (idempotencyKey && claim?.kind === 'new')
        await this.idempotency.release(principal, idempotencyKey);
      throw error;
    });
    const tracked = track(events, answer);
    if (!idempotencyKey || claim?.kind !== 'new')
      return { replayed: false, events: tracked, answer };
    // `track` has folded the final event into the answer by the time it passes it on.
    const remembered = this.idempotency.remembered(principal, idempotencyKey, tracked, (e) =>
      e.type === 'done' ? toCompletion(answer) : undefined,
    );
    return { replayed: false, events: remembered, answer };
  }

  private async events(
    call: CompletionCall,
    body: ChatCompletionRequestDto,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Event>> {
    const maxChars = this.config.conversation.maxMessageChars;
    const messages = body.messages.map((m, i) => toChatMessage(m, i, maxChars));
    const conversationId = body.metadata?.conversation_id;
    if (!conversationId) return this.stateless(call, body, messages, signal);
    if (toTools(body))
      throw ValidationFailedError.field(
        'tools',
        'tools cannot be combined with metadata.conversation_id: send the whole exchange without it to run your own tools',
      );
    const last = messages[messages.length - 1]!;
    if (last.role !== 'user') throw new LastMessageNotUserError();
    const turn = this.turns.send(
      call.principal,
      String(conversationId),
      {
        content: last.content,
        model: body.model,
        maxTokens: this.maxTokens(body),
        temperature: body.temperature,
        requestId: call.requestId,
      },
      signal,
    );
    // Errors before the first event (a missing conversation, a refused message) come now.
    const first = await turn.next();
    return (async function* (): AsyncGenerator<Event> {
      for (let step = first; !step.done; step = await turn.next()) {
        const e = step.value;
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

  /**
   * The given messages, sent as they are with the same guardrails as a conversation turn: every
   * user message and tool result (untrusted text too) is checked and redacted, the first system
   * message carries the leak canary, the answer is checked.
   */
  private async stateless(
    call: CompletionCall,
    body: ChatCompletionRequestDto,
    messages: ChatMessage[],
    signal: AbortSignal,
  ): Promise<AsyncIterable<Event>> {
    const { principal, requestId } = call;
    const system = messages.find((m) => m.role === 'system');
    const screened = messages.filter((m) => m.role === 'user' || m.role === 'tool');
    const guard = await this.guards.begin(
      principal.tenantId,
      screened.map((m) => m.content),
      system?.content,
    );
    const sent = messages.map((m) =>
      m === system
        ? { ...m, content: guard.system! }
        : screened.includes(m)
          ? { ...m, content: guard.texts[screened.indexOf(m)]! }
          : m,
    );
    const tools = toTools(body);
    const ledger = this.ledgers.open({ principal, requestId });
    const maxTokens = this.maxTokens(body);
    await ledger.admit(body.model, sent, maxTokens, { tools: tools?.tools });
    const upstream = this.llm.stream(
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
    return (async function* () {
      let responder: Responder | undefined;
      let text = '';
      let usage: TokenUsage | undefined;
      let status: 'complete' | 'aborted' | 'failed' = 'aborted';
      try {
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
        await ledger.settleQuietly({ responder, text, usage, status });
      }
    })();
  }

  private maxTokens(body: ChatCompletionRequestDto): number {
    return (
      body.max_completion_tokens ?? body.max_tokens ?? this.config.conversation.defaultMaxTokens
    );
  }
}

/** Collects the completion from its events as they pass. */
async function* track(
  events: AsyncIterable<Event>,
  answer: CompletionAnswer,
): AsyncGenerator<Event> {
  for await (const e of events) {
    if (e.type === 'start') answer.model = e.responder.model;
    else if (e.type === 'delta') answer.text += e.text;
    else if (e.type === 'tool_call') addToolCallPiece(answer.toolCalls, e);
    else {
      answer.finish = openAiFinish(e.finishReason);
      answer.usage = e.usage;
    }
    yield e;
  }
}

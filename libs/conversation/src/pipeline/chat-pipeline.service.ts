import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, GEN_AI, KeyRingCipher, type Span, tracedGenerator } from '@parley/core';
import {
  type ChatMessage,
  type ChatStreamEvent,
  LlmGateway,
  type ToolDefinition,
} from '@parley/llm';
import { ToolRunner } from '@parley/tools';
import { type AgentStep, pauseLoop } from '../agent-steps';
import { ApprovalStore } from '../approvals/approval.store';
import type { PausedTurn } from '../approvals/paused-turn';
import { ResponseCache } from '../cache/response-cache.service';
import { MessageTooLongError, PromptTooLargeError } from '../conversation.errors';
import { openContent } from '../message-seal';
import type { RenderedPrompt } from '../templates/prompt-template';
import { PromptTemplates } from '../templates/prompt-templates.service';
import { AgentLoop, answerEvents } from './agent-loop.service';
import { type Answer, cutOff, emptyAnswer, relay } from './answer-relay';
import type { TurnEvent, TurnInput } from './chat-turn.types';
import { buildMemoryWindow } from './memory-window';
import { citedIn, RetrievalContext, type RetrievedContext } from './retrieval-context.service';
import { type TurnGuard, TurnGuards } from './turn-guards.service';
import { type TurnLedger, TurnLedgers } from './turn-ledger.service';
import { TurnStore, type UserSide } from './turn.store';

/** A turn once its input is checked and its prompt assembled, before the model is asked. */
interface PreparedTurn {
  input: TurnInput;
  started: number;
  model: string;
  maxTokens: number;
  prompt?: RenderedPrompt;
  guard: TurnGuard;
  user: UserSide;
  context: RetrievedContext;
  window: { messages: ChatMessage[]; tokens: number };
  tools: ToolDefinition[];
  /** Set when the answer may come from (and go to) the response cache. */
  cacheKey?: string;
}

/**
 * A new conversation turn (design.md, "The chat pipeline"): memory window → cost admission
 * (the worst case reserved against every budget, or a 402 before any upstream call) → [beside
 * the call: guardrails and retrieval] → generation, or the agent loop when tools are on →
 * [output guardrails] → one transaction that stores both messages and settles the reservation
 * to the actual cost. A turn the caller abandons is stored with what was generated and status
 * `aborted`, and costed as such. Callers go through ChatTurns.
 */
@Injectable()
export class ChatPipeline {
  private readonly logger = new Logger('Chat');

  constructor(
    private readonly llm: LlmGateway,
    private readonly config: AppConfig,
    private readonly cipher: KeyRingCipher,
    private readonly templates: PromptTemplates,
    private readonly cache: ResponseCache,
    private readonly guards: TurnGuards,
    private readonly retrieval: RetrievalContext,
    private readonly agent: AgentLoop,
    private readonly toolRunner: ToolRunner,
    private readonly approvals: ApprovalStore,
    private readonly ledgers: TurnLedgers,
    private readonly store: TurnStore,
  ) {}

  /** One chat turn, traced as `parley.chat.turn` with each step's span inside. */
  run(input: TurnInput, signal: AbortSignal): AsyncGenerator<TurnEvent> {
    return tracedGenerator(
      'parley.chat.turn',
      {
        attributes: {
          [GEN_AI.conversationId]: input.conversation.id,
          'parley.tenant.id': input.conversation.tenantId,
        },
      },
      (span) => this.turn(input, signal, span),
    );
  }

  private async *turn(
    input: TurnInput,
    signal: AbortSignal,
    span: Span,
  ): AsyncGenerator<TurnEvent> {
    const turn = await this.prepare(input);
    if (turn.cacheKey) {
      const hit = await this.cache.get(turn.cacheKey);
      span.setAttribute('parley.cache.hit', hit !== undefined);
      if (hit) return yield* this.fromCache(turn, hit);
    }
    const { principal, requestId, conversation } = input;
    const ledger = this.ledgers.open({ principal, requestId, conversationId: conversation.id });
    await ledger.admit(turn.model, turn.window.messages, turn.maxTokens, {
      counted: turn.window.tokens,
      tools: turn.tools,
    });
    const answer = emptyAnswer();
    const cut = AbortSignal.any([signal, turn.guard.abort.signal]);
    let steps: AgentStep[] | undefined;
    try {
      let upstream: AsyncIterable<ChatStreamEvent>;
      if (turn.tools.length > 0) {
        const result = yield* this.runAgent(turn, ledger, cut);
        if (result.kind === 'paused') return yield* result.events;
        ({ steps } = result);
        upstream = answerEvents(result.final);
      } else upstream = this.llm.stream(this.request(turn), cut);
      yield* relay(turn.guard.guard(upstream), answer, turn.started);
    } catch (error) {
      // Before the model answered, no message is stored: the request simply failed, and what
      // is still reserved is settled to nothing.
      if (!answer.responder) {
        await ledger.release(error);
        throw error;
      }
      cutOff(answer, error, this.logger, conversation.id);
      await this.finish(turn, ledger, answer, steps);
      throw error;
    }
    const stored = await this.finish(turn, ledger, answer, steps);
    const { responder, usage, text, finishReason } = answer;
    if (turn.cacheKey && finishReason === 'stop' && !responder!.extractive && usage)
      await this.cache.set(turn.cacheKey, { responder: responder!, text, finishReason, usage });
    yield { type: 'done', ...stored };
  }

  /** Checks the input, runs the input guardrails and retrieval, and builds the prompt. */
  private async prepare(input: TurnInput): Promise<PreparedTurn> {
    const { conversation } = input;
    const settings = this.config.conversation;
    if (input.content.length > settings.maxMessageChars)
      throw new MessageTooLongError(settings.maxMessageChars);
    // One answer at a time: a new message waits until the paused one is decided (or expired).
    if (input.paused) await this.approvals.assertNoneWaiting(conversation.id);
    const model = input.model ?? conversation.model;
    const prompt = conversation.promptTemplate
      ? this.templates.render(
          conversation.promptTemplate,
          conversation.id,
          conversation.templateVariables,
        )
      : undefined;
    // Input guardrails first: a blocked message is refused before anything is reserved or sent,
    // and a redacted one is what the model sees and what is stored.
    const guard = await this.guards.begin(
      conversation.tenantId,
      [input.content],
      prompt?.system ?? settings.systemPrompt,
    );
    const content = guard.texts[0]!;
    // Passages from the conversation's knowledge bases, after the system prompt (outside what
    // the prompt-leak check compares with, so quoting a passage is not a leak).
    const { principal } = input;
    const context = await this.retrieval.for(
      { tenantId: conversation.tenantId, userId: principal.userId, apiKeyId: principal.apiKeyId },
      conversation.knowledgeBaseIds,
      content,
    );
    const system = [guard.system ?? '', context.instructions].filter(Boolean).join('\n\n');
    // The passages travel with the question, as data, not in the system prompt.
    const question = context.block ? `${context.block}\n\n${content}` : content;
    const window = this.window(input, model, system, question);
    // The tools still defined (one deleted since the conversation enabled it is left out).
    const tools = conversation.tools?.length
      ? await this.toolRunner.definitions(conversation.tenantId, conversation.tools, {
          skipMissing: true,
        })
      : [];
    const turn: PreparedTurn = {
      input,
      started: Date.now(),
      model,
      maxTokens: input.maxTokens ?? settings.defaultMaxTokens,
      prompt,
      guard,
      user: { content, prompt, findings: guard.inputFindings },
      context,
      window,
      tools,
    };
    return { ...turn, cacheKey: this.cacheKey(turn) };
  }

  /** The history that fits the memory budget, with the system prompt and the new message. */
  private window(input: TurnInput, model: string, system: string, question: string) {
    const settings = this.config.conversation;
    const { tenantId } = input.conversation;
    const history = input.history.map((m) => ({
      role: m.role,
      content: openContent(this.cipher, { tenantId, id: m.id }, m.content),
    }));
    const next: ChatMessage = { role: 'user', content: question };
    const window = buildMemoryWindow(model, system, history, next, settings.memoryTokenBudget);
    if (window.messages.length === (system ? 2 : 1) && window.tokens > settings.memoryTokenBudget)
      throw new PromptTooLargeError(window.tokens, settings.memoryTokenBudget);
    return window;
  }

  /**
   * Only a first question (no history) is answered from, or stored in, the response cache;
   * never an agent's, whose answer depends on what its tools return now.
   */
  private cacheKey(turn: PreparedTurn): string | undefined {
    const { input, prompt } = turn;
    if (!this.cache.enabled || input.history.length > 0 || turn.tools.length > 0) return undefined;
    return this.cache.key({
      tenantId: input.conversation.tenantId,
      model: turn.model,
      prompt: prompt
        ? `${prompt.template}@${prompt.version}/${prompt.variant ?? ''}`
        : this.config.conversation.systemPrompt,
      content: turn.user.content,
      maxTokens: input.maxTokens,
      temperature: input.temperature,
      knowledgeVersion: turn.context.versions || undefined,
    });
  }

  /** A cached answer: streamed at once, stored and recorded in the ledger at no cost. */
  private async *fromCache(
    turn: PreparedTurn,
    hit: NonNullable<Awaited<ReturnType<ResponseCache['get']>>>,
  ): AsyncGenerator<TurnEvent> {
    const { input } = turn;
    yield { type: 'start', responder: hit.responder };
    yield { type: 'delta', text: hit.text };
    const ledger = this.ledgers.open({
      principal: input.principal,
      requestId: input.requestId,
      conversationId: input.conversation.id,
    });
    ledger.admitFree(turn.window.messages);
    const elapsed = Date.now() - turn.started;
    const stored = await this.store.store(ledger, input, turn.user, {
      answer: { ...hit, firstTokenMs: elapsed, status: 'complete' },
      latencyMs: elapsed,
      outputFindings: [],
      citations: citedIn(hit.text, turn.context.citations),
      cached: true,
    });
    yield { type: 'done', ...stored };
  }

  /** The agent loop; a pause is stored here and comes back as the events that end the turn. */
  private async *runAgent(turn: PreparedTurn, ledger: TurnLedger, signal: AbortSignal) {
    const { input, guard, tools } = turn;
    const { conversation } = input;
    await guard.cleared();
    const result = yield* this.agent.run({
      model: turn.model,
      messages: turn.window.messages,
      maxTokens: turn.maxTokens,
      temperature: input.temperature,
      principal: input.principal,
      conversationId: conversation.id,
      tools,
      enabled: tools.map((t) => t.name),
      knowledgeBaseIds: conversation.knowledgeBaseIds,
      ledger,
      signal,
    });
    if (result.kind === 'final') return result;
    const state: PausedTurn = {
      v: 1,
      conversationId: conversation.id,
      subject: {
        kind: input.principal.kind,
        tenantId: input.principal.tenantId,
        userId: input.principal.userId,
        apiKeyId: input.principal.apiKeyId,
      },
      requestId: input.requestId,
      model: turn.model,
      maxTokens: turn.maxTokens,
      temperature: input.temperature,
      knowledgeBaseIds: conversation.knowledgeBaseIds,
      enabled: tools.map((t) => t.name),
      system: guard.system,
      canary: guard.canary,
      citations: turn.context.citations,
      userMessage: undefined as never,
      elapsedMs: Date.now() - turn.started,
      loop: pauseLoop(result),
    };
    const events = await this.store.storePause(input, turn.user, state, result);
    return { kind: 'paused' as const, events };
  }

  /** The model call of a turn without tools. */
  private request(turn: PreparedTurn) {
    return {
      model: turn.model,
      messages: turn.window.messages,
      maxTokens: turn.maxTokens,
      temperature: turn.input.temperature,
      passages: turn.context.passages,
      question: turn.user.content,
    };
  }

  private finish(turn: PreparedTurn, ledger: TurnLedger, answer: Answer, steps?: AgentStep[]) {
    return this.store.store(ledger, turn.input, turn.user, {
      answer: { ...answer, responder: answer.responder! },
      latencyMs: Date.now() - turn.started,
      outputFindings: turn.guard.outputFindings,
      citations: citedIn(answer.text, turn.context.citations),
      steps,
    });
  }
}

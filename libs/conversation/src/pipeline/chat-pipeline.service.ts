import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { AppConfig, GEN_AI, KeyRingCipher, type Span, Traced, tracedGenerator } from '@parley/core';
import { newId } from '@parley/database';
import {
  CallerAbortedError,
  type ChatMessage,
  type ChatStreamEvent,
  type FinishReason,
  LlmGateway,
  type Responder,
  type TokenUsage,
} from '@parley/llm';
import { type Admission, CostService, formatUsd } from '@parley/cost';
import { GuardrailBlockedError } from '@parley/guardrails';
import { MessageTooLongError, PromptTooLargeError } from '../conversation.errors';
import { toMessageView, type MessageView } from '../conversation.views';
import type { StoredHistory } from '../conversations.service';
import { openContent } from '../message-seal';
import { ConversationEntity } from '../entities/conversation.entity';
import { MessageEntity, type MessageStatus } from '../entities/message.entity';
import { buildMemoryWindow } from './memory-window';
import type { RenderedPrompt } from '../templates/prompt-template';
import { PromptTemplates } from '../templates/prompt-templates.service';
import { ResponseCache } from '../cache/response-cache';
import { ChatMetering } from './chat-metering';
import { type StoredFinding, TurnGuards } from './turn-guard';
import { type Citation, citedIn, RetrievalContext } from './retrieval-context';
import {
  type MessageUpdate as MessageUpdateFields,
  type NewMessage,
  turnWrites,
} from './turn-writes';
import {
  type AgentEvent,
  AgentLoop,
  type AgentPause,
  type AgentStep,
  answerEvents,
  type ApprovalDecision,
  SETTLED,
} from './agent-loop';
import { ToolRunner } from '@parley/tools';
import { ApprovalStore } from '../approvals/approval-store';
import { type PausedTurn, payerOf } from '../approvals/paused-turn';

export interface TurnInput {
  principal: Principal;
  conversation: ConversationEntity;
  content: string;
  model?: string;
  maxTokens?: number;
  temperature?: number;
  requestId?: string;
  /** The latest complete messages as stored, oldest first (ConversationsService.getForTurn). */
  history: StoredHistory;
  /** An earlier answer of the conversation is paused for approvals (getForTurn says). */
  paused?: boolean;
}

export type TurnEvent =
  | AgentEvent
  | {
      type: 'approval_required';
      messageId: string;
      callId: string;
      name: string;
      arguments: string;
      expiresAt: string;
    }
  | { type: 'start'; responder: Responder }
  | { type: 'delta'; text: string }
  | { type: 'done'; userMessage: MessageView; assistantMessage: MessageView };

/** How far back history is read before the token budget trims it. */
export const HISTORY_LIMIT = 200;

/**
 * One conversation turn (design.md, "The chat pipeline"): memory window → cost admission (the
 * worst case reserved against every budget, or a 402 before any upstream call) → [beside the
 * call: guardrails and retrieval] → generation → [output guardrails] → one transaction that
 * stores both messages and settles the reservation to the actual cost. A turn the caller
 * abandons is stored with what was generated and status `aborted`, and costed as such.
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
    private readonly metering: ChatMetering,
    private readonly cost: CostService,
    private readonly guards: TurnGuards,
    private readonly retrieval: RetrievalContext,
    private readonly agent: AgentLoop,
    private readonly toolRunner: ToolRunner,
    private readonly approvals: ApprovalStore,
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
    const next: ChatMessage = { role: 'user', content };
    // Passages from the conversation's knowledge bases, after the system prompt (outside what
    // the prompt-leak check compares with, so quoting a passage is not a leak).
    const context = await this.retrieval.for(
      {
        tenantId: conversation.tenantId,
        userId: input.principal.userId,
        apiKeyId: input.principal.apiKeyId,
      },
      conversation.knowledgeBaseIds,
      content,
    );
    const system = [guard.system ?? '', context.prompt].filter(Boolean).join('\n\n');
    const history = input.history.map((m) => ({
      role: m.role,
      content: openContent(this.cipher, { tenantId: conversation.tenantId, id: m.id }, m.content),
    }));
    const window = buildMemoryWindow(model, system, history, next, settings.memoryTokenBudget);
    if (window.messages.length === (system ? 2 : 1) && window.tokens > settings.memoryTokenBudget) {
      throw new PromptTooLargeError(window.tokens, settings.memoryTokenBudget);
    }

    const started = Date.now();
    // The tools still defined (one deleted since the conversation enabled it is left out).
    const tools = conversation.tools?.length
      ? await this.toolRunner.definitions(conversation.tenantId, conversation.tools, {
          skipMissing: true,
        })
      : [];
    // Only a first question (no history) is answered from, or stored in, the response cache;
    // never an agent's, whose answer depends on what its tools return now.
    const cacheKey =
      this.cache.enabled && history.length === 0 && tools.length === 0
        ? this.cache.key({
            tenantId: conversation.tenantId,
            model,
            prompt: prompt
              ? `${prompt.template}@${prompt.version}/${prompt.variant ?? ''}`
              : settings.systemPrompt,
            content,
            maxTokens: input.maxTokens,
            temperature: input.temperature,
            knowledgeVersion: context.versions || undefined,
          })
        : undefined;
    const hit = cacheKey ? await this.cache.get(cacheKey) : undefined;
    if (cacheKey) span.setAttribute('parley.cache.hit', hit !== undefined);
    if (hit) {
      yield { type: 'start', responder: hit.responder };
      yield { type: 'delta', text: hit.text };
      const stored = await this.persist(
        input,
        {
          ...hit,
          status: 'complete',
          firstTokenMs: Date.now() - started,
          latencyMs: Date.now() - started,
          prompt,
          cached: true,
          content,
          findings: { input: guard.inputFindings, output: [] },
          citations: citedIn(hit.text, context.citations),
        },
        this.metering.free(input.principal, input.requestId),
        window.messages,
      );
      yield { type: 'done', ...stored };
      return;
    }
    const maxTokens = input.maxTokens ?? settings.defaultMaxTokens;
    let admission = await this.metering.admit(
      input.principal,
      input.requestId,
      model,
      window.messages,
      maxTokens,
      { counted: window.tokens, tools },
    );
    let promptMessages = window.messages;
    let steps: AgentStep[] = [];
    const answer: Answer = { text: '', finishReason: 'stop', firstTokenMs: null };
    let status: MessageStatus = 'complete';
    // Stores the turn as it stands: complete, or what was generated before it was cut off.
    const record = () =>
      this.persist(
        input,
        {
          ...answer,
          responder: answer.responder!,
          status,
          latencyMs: Date.now() - started,
          prompt,
          content,
          findings: { input: guard.inputFindings, output: guard.outputFindings },
          citations: citedIn(answer.text, context.citations),
          steps,
        },
        admission,
        promptMessages,
      );
    try {
      let upstream: AsyncIterable<ChatStreamEvent>;
      if (tools.length > 0) {
        await guard.cleared();
        const result = yield* this.agent.run({
          principal: input.principal,
          requestId: input.requestId,
          conversationId: conversation.id,
          model,
          messages: window.messages,
          maxTokens,
          temperature: input.temperature,
          tools,
          enabled: tools.map((t) => t.name),
          knowledgeBaseIds: conversation.knowledgeBaseIds,
          admission,
          signal: AbortSignal.any([signal, guard.abort.signal]),
        });
        if (result.kind === 'paused') {
          const paused: PausedTurn = {
            v: 1,
            conversationId: conversation.id,
            subject: {
              kind: input.principal.kind,
              tenantId: input.principal.tenantId,
              userId: input.principal.userId,
              apiKeyId: input.principal.apiKeyId,
            },
            requestId: input.requestId,
            model,
            maxTokens,
            temperature: input.temperature,
            knowledgeBaseIds: conversation.knowledgeBaseIds,
            enabled: tools.map((t) => t.name),
            system: guard.system,
            canary: guard.canary,
            citations: context.citations,
            userMessage: undefined as never,
            elapsedMs: Date.now() - started,
            loop: pauseLoop(result),
          };
          yield* this.pause(
            input,
            { content, prompt, findings: guard.inputFindings },
            paused,
            result,
          );
          return;
        }
        ({ admission, messages: promptMessages, steps } = result);
        upstream = answerEvents(result.final);
      } else
        upstream = this.llm.stream(
          {
            model,
            messages: window.messages,
            maxTokens,
            temperature: input.temperature,
            passages: context.passages,
          },
          AbortSignal.any([signal, guard.abort.signal]),
        );
      yield* this.relay(guard.guard(upstream), answer, started);
    } catch (error) {
      // Before the model answered, no message is stored: the request simply failed, and its
      // reservation is settled to nothing.
      if (!answer.responder) {
        // The agent loop settles its own rounds; otherwise the turn's admission is open.
        if (!(error as { [SETTLED]?: boolean })?.[SETTLED])
          await this.settleUnanswered(admission, error, promptMessages, started, conversation.id);
        throw error;
      }
      ({ status, finishReason: answer.finishReason } = this.cutOff(error, conversation.id));
      await record();
      throw error;
    }
    const stored = await record();
    const { responder, usage, text, finishReason } = answer;
    if (cacheKey && finishReason === 'stop' && !responder!.extractive && usage) {
      await this.cache.set(cacheKey, { responder: responder!, text, finishReason, usage });
    }
    yield { type: 'done', ...stored };
  }

  /**
   * Goes on with an answer whose high-risk calls have all been decided (ApprovalStore.decide
   * claimed its pause): runs the approved calls, tells the model about the declined ones, and
   * finishes the loop as the turn's owner (their budgets pay), storing the answer in place of
   * the waiting one. It may pause again for the next round's calls.
   */
  resume(
    conversation: ConversationEntity,
    claim: { messageId: string; state: PausedTurn; decisions: Record<string, ApprovalDecision> },
    signal: AbortSignal,
  ): AsyncGenerator<TurnEvent> {
    return tracedGenerator(
      'parley.chat.resume',
      { attributes: { [GEN_AI.conversationId]: conversation.id } },
      () => this.resumeTurn(conversation, claim, signal),
    );
  }

  private async *resumeTurn(
    conversation: ConversationEntity,
    claim: { messageId: string; state: PausedTurn; decisions: Record<string, ApprovalDecision> },
    signal: AbortSignal,
  ): AsyncGenerator<TurnEvent> {
    const { state, messageId } = claim;
    const principal = payerOf(state);
    const started = Date.now() - state.elapsedMs;
    // Failing here (before anything ran) ends the answer rather than leave its pause claimed.
    const prepared = await Promise.all([
      this.guards.resume(conversation.tenantId, state.system, state.canary),
      this.toolRunner.definitions(conversation.tenantId, state.enabled, { skipMissing: true }),
    ]).catch(async (error: unknown) => {
      await this.approvals.fail(messageId, 'failed', 'error');
      throw error;
    });
    const [guard, tools] = prepared;
    const answer: Answer = { text: '', finishReason: 'stop', firstTokenMs: null };
    let status: MessageStatus = 'complete';
    let admission: Admission | undefined;
    let promptMessages: ChatMessage[] = [];
    let steps: AgentStep[] = [];
    const record = async () => {
      const outcome = this.metering.outcome({
        responder: answer.responder,
        messages: promptMessages,
        text: answer.text,
        usage: answer.usage,
        status: status === 'complete' ? 'complete' : status === 'aborted' ? 'aborted' : 'failed',
        latencyMs: Date.now() - started,
        conversationId: conversation.id,
      });
      const update = {
        content: answer.text,
        status,
        model: answer.responder!.model,
        provider: answer.responder!.provider,
        promptTokens: outcome.promptTokens ?? 0,
        completionTokens: outcome.completionTokens ?? 0,
        costUsd: formatUsd(this.cost.costOf(admission!, outcome)),
        latencyMs: Date.now() - started,
        firstTokenMs: answer.firstTokenMs,
        finishReason: answer.finishReason,
        citations: citedIn(answer.text, state.citations),
        guardrailFindings: guard.outputFindings,
        steps,
      };
      const { rows } = await this.cost.settle(
        admission!,
        outcome,
        this.approvals.finishWrites({ id: messageId, tenantId: conversation.tenantId }, update),
      );
      const createdAt = new Date(rows[0]!.created_at as string);
      return this.assistantView(conversation, messageId, update, answer.text, createdAt, state);
    };
    try {
      const result = yield* this.agent.run({
        principal,
        requestId: state.requestId,
        conversationId: conversation.id,
        model: state.model,
        messages: state.loop.messages,
        maxTokens: state.maxTokens,
        temperature: state.temperature,
        tools,
        enabled: state.enabled,
        knowledgeBaseIds: state.knowledgeBaseIds,
        resume: { ...state.loop, decisions: claim.decisions },
        signal: AbortSignal.any([signal, guard.abort.signal]),
      });
      if (result.kind === 'paused') {
        const next: PausedTurn = {
          ...state,
          elapsedMs: Date.now() - started,
          loop: pauseLoop(result),
        };
        const update = this.pausedUpdate(result);
        await this.approvals.pauseAgain(messageId, update, next, result.approvals);
        yield* this.approvalEvents(messageId, result);
        yield {
          type: 'done',
          userMessage: state.userMessage,
          assistantMessage: this.assistantView(
            conversation,
            messageId,
            update,
            result.text,
            undefined,
            state,
          ),
        };
        return;
      }
      ({ admission, messages: promptMessages, steps } = result);
      yield* this.relay(guard.guard(answerEvents(result.final)), answer, started);
    } catch (error) {
      if (!answer.responder) {
        // Every round the loop ran is settled; the answer ends here, with what it did so far.
        const cut = this.cutOff(error, conversation.id);
        await this.approvals.fail(messageId, cut.status, cut.finishReason);
        throw error;
      }
      ({ status, finishReason: answer.finishReason } = this.cutOff(error, conversation.id));
      await record();
      throw error;
    }
    yield { type: 'done', userMessage: state.userMessage, assistantMessage: await record() };
  }

  /** Stores a turn that waits for approvals, and tells the client what to decide. */
  private async *pause(
    input: TurnInput,
    turn: { content: string; prompt?: RenderedPrompt; findings: StoredFinding[] },
    state: PausedTurn,
    pause: AgentPause,
  ): AsyncGenerator<TurnEvent> {
    const { user, assistant } = this.messageRows(input, {
      ...this.pausedUpdate(pause),
      userContent: turn.content,
      prompt: turn.prompt,
      inputFindings: turn.findings,
    });
    const userMessage = toMessageView({
      ...user,
      content: turn.content,
      createdAt: new Date(),
    } as unknown as MessageEntity);
    // Nothing is open (the loop settled the round): a failed write leaves no reservation.
    const at = await this.approvals
      .pause(user, assistant, { ...state, userMessage }, pause.approvals)
      .catch((error: unknown) => {
        throw Object.assign(error as object, { [SETTLED]: true });
      });
    userMessage.createdAt = at.get(user.id)!.toISOString();
    yield* this.approvalEvents(assistant.id, pause);
    yield {
      type: 'done',
      userMessage,
      assistantMessage: toMessageView({
        ...assistant,
        content: pause.text,
        createdAt: at.get(assistant.id)!,
      } as unknown as MessageEntity),
    };
  }

  private *approvalEvents(messageId: string, pause: AgentPause): Generator<TurnEvent> {
    const expiresAt = new Date(
      Date.now() + this.config.tools.approvalTtlSeconds * 1000,
    ).toISOString();
    for (const call of pause.approvals)
      yield {
        type: 'approval_required',
        messageId,
        callId: call.id,
        name: call.name,
        arguments: call.arguments,
        expiresAt,
      };
  }

  /** The stored fields of an answer that waits: what the model said beside its calls. */
  private pausedUpdate(pause: AgentPause) {
    const lastModel = pause.steps.findLast((s) => s.kind === 'model');
    return {
      content: pause.text,
      status: 'awaiting_approval' as const,
      model: lastModel?.kind === 'model' ? lastModel.model : null,
      provider: lastModel?.kind === 'model' ? lastModel.provider : null,
      promptTokens: 0,
      completionTokens: 0,
      costUsd: '0.000000000',
      latencyMs: pause.elapsedMs,
      firstTokenMs: null,
      finishReason: 'tool_approval',
      citations: [],
      guardrailFindings: [],
      steps: pause.steps,
    };
  }

  private assistantView(
    conversation: ConversationEntity,
    id: string,
    update: ReturnType<ChatPipeline['pausedUpdate']> | MessageUpdateFields,
    text: string,
    createdAt: Date | undefined,
    state: PausedTurn,
  ): MessageView {
    return toMessageView({
      ...update,
      id,
      conversationId: conversation.id,
      role: 'assistant',
      content: text,
      cached: false,
      promptTemplate: null,
      createdAt: createdAt ?? new Date(state.userMessage.createdAt),
    } as unknown as MessageEntity);
  }

  /** Passes the answer's events on, collecting what the turn stores. */
  private async *relay(
    events: AsyncIterable<ChatStreamEvent>,
    answer: Answer,
    started: number,
  ): AsyncGenerator<TurnEvent> {
    for await (const event of events) {
      if (event.type === 'start') {
        answer.responder = event.responder;
        yield event;
      } else if (event.type === 'delta') {
        answer.firstTokenMs ??= Date.now() - started;
        answer.text += event.text;
        yield event;
      } else if (event.type === 'done') {
        answer.usage = event.usage;
        answer.finishReason = event.finishReason;
      }
      // A conversation turn sends no tools, so the model cannot call any here.
    }
  }

  /** How an answer cut off by `error` is stored. */
  private cutOff(
    error: unknown,
    conversationId: string,
  ): { status: 'aborted' | 'failed'; finishReason: FinishReason } {
    if (error instanceof CallerAbortedError) return { status: 'aborted', finishReason: 'aborted' };
    if (error instanceof GuardrailBlockedError)
      return { status: 'failed', finishReason: 'content_filter' };
    this.logger.warn(
      `turn in conversation ${conversationId} failed mid-stream: ${(error as Error).message}`,
    );
    return { status: 'failed', finishReason: 'error' };
  }

  @Traced('parley.budget.settle')
  private async settleUnanswered(
    admission: Admission,
    error: unknown,
    messages: ChatMessage[],
    started: number,
    conversationId: string,
  ): Promise<void> {
    const outcome = this.metering.outcome({
      messages,
      text: '',
      status: error instanceof CallerAbortedError ? 'aborted' : 'failed',
      latencyMs: Date.now() - started,
      conversationId,
    });
    await this.cost
      .settle(admission, outcome)
      .catch((e: Error) =>
        this.logger.error(`could not settle the reservation of a failed turn: ${e.message}`),
      );
  }

  /**
   * Both messages, the conversation's timestamp, and the settlement of the reservation (with
   * its ledger row), in one transaction.
   */
  @Traced('parley.persist')
  private async persist(
    input: TurnInput,
    turn: {
      responder: Responder;
      text: string;
      /** The provider's usage; counted from the prompt and the text when there is none. */
      usage?: TokenUsage;
      finishReason: FinishReason;
      status: MessageStatus;
      firstTokenMs: number | null;
      latencyMs: number;
      prompt?: RenderedPrompt;
      cached?: boolean;
      /** The user's message as sent and stored (redacted where the policy says so). */
      content: string;
      findings: { input: StoredFinding[]; output: StoredFinding[] };
      citations: Citation[];
      /** The agent's execution history, when tools ran. */
      steps?: AgentStep[];
    },
    admission: Admission,
    promptMessages: ChatMessage[],
  ): Promise<{ userMessage: MessageView; assistantMessage: MessageView }> {
    const { conversation } = input;
    const outcome = this.metering.outcome({
      responder: turn.responder,
      messages: promptMessages,
      text: turn.text,
      usage: turn.usage,
      status:
        turn.status === 'complete' ? 'complete' : turn.status === 'aborted' ? 'aborted' : 'failed',
      latencyMs: turn.latencyMs,
      conversationId: conversation.id,
      cacheHit: turn.cached,
    });
    const { user, assistant } = this.messageRows(input, {
      content: turn.text,
      status: turn.status,
      model: turn.responder.model,
      provider: turn.responder.provider,
      promptTokens: outcome.promptTokens ?? 0,
      completionTokens: outcome.completionTokens ?? 0,
      costUsd: formatUsd(this.cost.costOf(admission, outcome)),
      latencyMs: turn.latencyMs,
      firstTokenMs: turn.firstTokenMs,
      finishReason: turn.finishReason,
      citations: turn.citations,
      guardrailFindings: turn.findings.output,
      steps: turn.steps ?? [],
      cached: turn.cached,
      userContent: turn.content,
      prompt: turn.prompt,
      inputFindings: turn.findings.input,
    });
    // One statement: both messages, the conversation's timestamp, and the settlement.
    const { rows: created } = await this.cost.settle(
      admission,
      outcome,
      turnWrites(user, assistant, conversation.id, this.cipher),
    );
    const at = new Map(created.map((r) => [r.id as string, new Date(r.created_at as string)]));
    const show = (m: NewMessage, content: string) =>
      toMessageView({
        ...m,
        content,
        createdAt: at.get(m.id)!,
        updatedAt: at.get(m.id)!,
      } as unknown as MessageEntity);
    return {
      userMessage: show(user, turn.content),
      assistantMessage: show(assistant, turn.text),
    };
  }

  /** The rows of a turn, in clear (turnWrites seals them): the user's message and the answer. */
  private messageRows(
    input: Pick<TurnInput, 'conversation' | 'requestId'>,
    turn: MessageUpdateFields & {
      cached?: boolean;
      userContent: string;
      prompt?: RenderedPrompt;
      inputFindings: StoredFinding[];
    },
  ): { user: NewMessage; assistant: NewMessage } {
    const { conversation } = input;
    const base = {
      tenantId: conversation.tenantId,
      conversationId: conversation.id,
      requestId: input.requestId ?? null,
      citations: [],
      guardrailFindings: [],
      // As PostgreSQL renders numeric(20, 9), so a fresh answer and a listed one look the same.
      costUsd: '0.000000000',
      cached: false,
      model: null,
      provider: null,
      completionTokens: 0,
      latencyMs: null,
      firstTokenMs: null,
      finishReason: null,
      promptTemplate: null,
      promptTemplateVersion: null,
      promptVariant: null,
      steps: [] as unknown[],
    };
    const user: NewMessage = {
      ...base,
      id: newId(),
      role: 'user',
      content: turn.userContent,
      status: 'complete',
      guardrailFindings: turn.inputFindings,
      promptTokens: turn.promptTokens,
    };
    const assistant: NewMessage = {
      ...base,
      id: newId(),
      role: 'assistant',
      content: turn.content,
      status: turn.status,
      guardrailFindings: turn.guardrailFindings,
      citations: turn.citations,
      model: turn.model,
      provider: turn.provider,
      completionTokens: turn.completionTokens,
      promptTokens: turn.promptTokens,
      costUsd: turn.costUsd,
      latencyMs: turn.latencyMs,
      firstTokenMs: turn.firstTokenMs,
      finishReason: turn.finishReason,
      promptTemplate: turn.prompt?.template ?? null,
      promptTemplateVersion: turn.prompt?.version ?? null,
      promptVariant: turn.prompt?.variant ?? null,
      cached: turn.cached ?? false,
      steps: turn.steps ?? [],
    };
    return { user, assistant };
  }
}

/** What a turn collects from the model's events as they pass. */
interface Answer {
  responder?: Responder;
  text: string;
  usage?: TokenUsage;
  finishReason: FinishReason;
  firstTokenMs: number | null;
}

/** The loop part of a pause, as stored. */
const pauseLoop = ({ kind: _kind, approvals: _approvals, ...loop }: AgentPause) => loop;

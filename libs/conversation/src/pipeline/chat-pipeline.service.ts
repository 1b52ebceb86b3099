import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { AppConfig, KeyRingCipher } from '@parley/core';
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
import { ConversationEntity } from '../entities/conversation.entity';
import { MessageEntity, type MessageStatus } from '../entities/message.entity';
import { buildMemoryWindow } from './memory-window';
import type { RenderedPrompt } from '../templates/prompt-template';
import { PromptTemplates } from '../templates/prompt-templates.service';
import { ResponseCache } from '../cache/response-cache';
import { ChatMetering } from './chat-metering';
import { type StoredFinding, TurnGuards } from './turn-guard';
import { type Citation, citedIn, RetrievalContext } from './retrieval-context';
import { turnWrites } from './turn-writes';
import { type AgentEvent, AgentLoop, type AgentStep, answerEvents, SETTLED } from './agent-loop';
import { ToolRunner } from '@parley/tools';

export interface TurnInput {
  principal: Principal;
  conversation: ConversationEntity;
  content: string;
  model?: string;
  maxTokens?: number;
  temperature?: number;
  requestId?: string;
  /** The latest complete messages as stored, oldest first (ConversationsService.getForTurn). */
  history: { role: 'user' | 'assistant'; content: string }[];
}

export type TurnEvent =
  | AgentEvent
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
  ) {}

  async *run(input: TurnInput, signal: AbortSignal): AsyncGenerator<TurnEvent> {
    const { conversation } = input;
    const settings = this.config.conversation;
    if (input.content.length > settings.maxMessageChars)
      throw new MessageTooLongError(settings.maxMessageChars);
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
      content: this.cipher.open(m.content),
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
    let firstTokenMs: number | null = null;
    let responder: Responder | undefined;
    let text = '';
    let usage: TokenUsage | undefined;
    let finishReason: FinishReason = 'stop';
    let status: MessageStatus = 'complete';
    // Stores the turn as it stands: complete, or what was generated before it was cut off.
    const record = () =>
      this.persist(
        input,
        {
          responder: responder!,
          text,
          usage,
          finishReason,
          status,
          firstTokenMs,
          latencyMs: Date.now() - started,
          prompt,
          content,
          findings: { input: guard.inputFindings, output: guard.outputFindings },
          citations: citedIn(text, context.citations),
          steps,
        },
        admission,
        promptMessages,
      );
    try {
      let upstream: AsyncIterable<ChatStreamEvent>;
      if (tools.length > 0) {
        await guard.cleared();
        const loop = this.agent.run({
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
        let next = await loop.next();
        for (; !next.done; next = await loop.next()) yield next.value;
        ({ admission, messages: promptMessages, steps } = next.value);
        upstream = answerEvents(next.value.final);
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
      for await (const event of guard.guard(upstream)) {
        if (event.type === 'start') {
          responder = event.responder;
          yield event;
        } else if (event.type === 'delta') {
          firstTokenMs ??= Date.now() - started;
          text += event.text;
          yield event;
        } else if (event.type === 'done') {
          usage = event.usage;
          finishReason = event.finishReason;
        }
        // A conversation turn sends no tools, so the model cannot call any here.
      }
    } catch (error) {
      // Before the model answered, no message is stored: the request simply failed, and its
      // reservation is settled to nothing.
      if (!responder) {
        // The agent loop settles its own rounds; otherwise the turn's admission is open.
        if (!(error as { [SETTLED]?: boolean })?.[SETTLED])
          await this.settleUnanswered(admission, error, promptMessages, started, conversation.id);
        throw error;
      }
      status = error instanceof CallerAbortedError ? 'aborted' : 'failed';
      finishReason =
        error instanceof CallerAbortedError
          ? 'aborted'
          : error instanceof GuardrailBlockedError
            ? 'content_filter'
            : 'error';
      if (status === 'failed' && !(error instanceof GuardrailBlockedError))
        this.logger.warn(
          `turn in conversation ${conversation.id} failed mid-stream: ${(error as Error).message}`,
        );
      await record();
      throw error;
    }
    const stored = await record();
    if (cacheKey && finishReason === 'stop' && !responder!.extractive && usage) {
      await this.cache.set(cacheKey, { responder: responder!, text, finishReason, usage });
    }
    yield { type: 'done', ...stored };
  }

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
    const usage = {
      promptTokens: outcome.promptTokens ?? 0,
      completionTokens: outcome.completionTokens ?? 0,
    };
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
    const user = {
      ...base,
      id: newId(),
      role: 'user' as const,
      content: this.cipher.seal(turn.content),
      status: 'complete' as const,
      guardrailFindings: turn.findings.input,
      promptTokens: usage.promptTokens,
    };
    const assistant = {
      ...base,
      id: newId(),
      role: 'assistant' as const,
      content: this.cipher.seal(turn.text),
      status: turn.status,
      guardrailFindings: turn.findings.output,
      citations: turn.citations,
      model: turn.responder.model,
      provider: turn.responder.provider,
      completionTokens: usage.completionTokens,
      promptTokens: usage.promptTokens,
      costUsd: formatUsd(this.cost.costOf(admission, outcome)),
      latencyMs: turn.latencyMs,
      firstTokenMs: turn.firstTokenMs,
      finishReason: turn.finishReason,
      promptTemplate: turn.prompt?.template ?? null,
      promptTemplateVersion: turn.prompt?.version ?? null,
      promptVariant: turn.prompt?.variant ?? null,
      cached: turn.cached ?? false,
      steps: turn.steps ?? [],
    };
    // One statement: both messages, the conversation's timestamp, and the settlement.
    const { rows: created } = await this.cost.settle(
      admission,
      outcome,
      turnWrites(user, assistant, conversation.id),
    );
    const at = new Map(created.map((r) => [r.id as string, new Date(r.created_at as string)]));
    const rows = [user, assistant].map(
      (m) =>
        ({ ...m, createdAt: at.get(m.id)!, updatedAt: at.get(m.id)! }) as unknown as MessageEntity,
    );
    const show = (m: MessageEntity, content: string) =>
      toMessageView({ ...m, content } as MessageEntity);
    return {
      userMessage: show(rows[0]!, turn.content),
      assistantMessage: show(rows[1]!, turn.text),
    };
  }
}

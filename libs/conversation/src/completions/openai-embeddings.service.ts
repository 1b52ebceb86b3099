import { Injectable } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { AppConfig, ValidationFailedError } from '@parley/core';
import { GuardrailsService } from '@parley/guardrails';
import { ModelRouter } from '@parley/llm';
import { Embedder } from '@parley/rag';
import { EmbeddingsUnavailableError } from '../conversation.errors';
import type { EmbeddingsRequestDto } from '../dto/embeddings.dto';

const MAX_INPUTS = 2048;

/** OpenAI's embeddings response. */
export interface EmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/**
 * `POST /v1/embeddings` for OpenAI clients: the texts pass the tenant's input guardrails (a
 * blocked text refuses the request, a redacted one is embedded redacted), then the call is
 * metered like the knowledge bases' own embeddings (Embedder.embedMetered: admitted against the
 * caller's budgets at the model's price, settled in the ledger).
 */
@Injectable()
export class OpenAiEmbeddings {
  constructor(
    private readonly router: ModelRouter,
    private readonly embedder: Embedder,
    private readonly guardrails: GuardrailsService,
    private readonly config: AppConfig,
  ) {}

  async create(
    principal: Principal,
    requestId: string,
    body: EmbeddingsRequestDto,
    signal: AbortSignal,
  ): Promise<EmbeddingList> {
    const inputs = this.inputsOf(body.input);
    const target = this.router.embeddingTarget(body.model);
    if (!target) throw new EmbeddingsUnavailableError();
    const policy = await this.guardrails.policyFor(principal.tenantId);
    const texts = inputs.map((text) => {
      const verdict = this.guardrails.checkInput(text, policy);
      if (verdict.decision === 'block')
        throw this.guardrails.blocked(principal.tenantId, 'input', verdict);
      return verdict.text;
    });
    const subject = {
      tenantId: principal.tenantId,
      userId: principal.userId,
      apiKeyId: principal.apiKeyId,
    };
    const result = await this.embedder.embedMetered(subject, body.model, texts, {
      signal,
      requestId,
    });
    const base64 = body.encoding_format === 'base64';
    return {
      object: 'list',
      data: result.vectors.map((v, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
      })),
      model: result.model,
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    };
  }

  /** A text or a list of texts, each within CHAT_MAX_MESSAGE_CHARS. */
  private inputsOf(input: unknown): string[] {
    const list = typeof input === 'string' ? [input] : input;
    const max = this.config.conversation.maxMessageChars;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > MAX_INPUTS ||
      !list.every((t) => typeof t === 'string' && t.length > 0)
    )
      throw ValidationFailedError.field(
        'input',
        `input must be a non-empty text or a list of 1 to ${MAX_INPUTS} non-empty texts`,
      );
    const long = list.findIndex((t: string) => t.length > max);
    if (long >= 0)
      throw ValidationFailedError.field(
        typeof input === 'string' ? 'input' : `input.${long}`,
        `at most ${max} characters (CHAT_MAX_MESSAGE_CHARS)`,
      );
    return list as string[];
  }
}

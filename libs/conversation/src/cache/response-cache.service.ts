import { Injectable } from '@nestjs/common';
import { AppConfig, KeyRingCipher, Metrics, RedisConnection } from '@parley/core';
import type { FinishReason, Responder, TokenUsage } from '@parley/llm';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';

export interface CachedAnswer {
  responder: Responder;
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
}

export interface CacheKeyParts {
  tenantId: string;
  model: string;
  /** Template name, version and variant, or the plain system prompt. */
  prompt: string;
  content: string;
  maxTokens?: number;
  temperature?: number;
  /** Knowledge-base versions, once retrieval lands. */
  knowledgeVersion?: string;
}

/**
 * Answers to identical first questions (no history): same tenant, model, prompt (template and
 * version), normalised question and generation settings. Redis when configured, so every
 * instance shares it; a bounded in-memory LRU otherwise. Entries are encrypted like messages.
 */
@Injectable()
export class ResponseCache {
  private readonly memory?: LRUCache<string, string>;

  private readonly lookups;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnection,
    private readonly cipher: KeyRingCipher,
    metrics: Metrics,
  ) {
    this.lookups = metrics.counter({
      name: 'parley_response_cache_lookups_total',
      help: 'Response cache lookups by result (hit, miss).',
      labelNames: ['result'],
    });
    const { maxEntries, ttlSeconds } = config.conversation.responseCache;
    if (!redis.client) this.memory = new LRUCache({ max: maxEntries, ttl: ttlSeconds * 1000 });
  }

  get enabled(): boolean {
    return this.config.conversation.responseCache.enabled;
  }

  key(parts: CacheKeyParts): string {
    const normalised = parts.content.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
    const material = JSON.stringify([
      parts.tenantId,
      parts.model,
      parts.prompt,
      normalised,
      parts.maxTokens ?? null,
      parts.temperature ?? null,
      parts.knowledgeVersion ?? null,
    ]);
    return `${this.config.redis.keyPrefix}:answer:${createHash('sha256').update(material).digest('base64url')}`;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const stored = this.memory
      ? this.memory.get(key)
      : await this.redis.client!.get(key).catch(() => null);
    this.lookups.inc({ result: stored ? 'hit' : 'miss' });
    return stored
      ? (JSON.parse(this.cipher.open(stored, cacheContext(key))) as CachedAnswer)
      : undefined;
  }

  async set(key: string, answer: CachedAnswer): Promise<void> {
    const value = this.cipher.seal(JSON.stringify(answer), cacheContext(key));
    if (this.memory) this.memory.set(key, value);
    else
      await this.redis
        .client!.set(key, value, 'EX', this.config.conversation.responseCache.ttlSeconds)
        .catch(() => undefined);
  }
}

/** A cached answer is bound to its key, which is derived from the tenant and the question. */
const cacheContext = (key: string) => ({ tenantId: 'response-cache', id: key });

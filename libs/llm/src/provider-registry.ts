import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, Metrics } from '@parley/core';
import type { IPolicy } from 'cockatiel';
import OpenAI from 'openai';
import { providerPolicy } from './provider-policy';

export interface Provider {
  name: string;
  client: OpenAI;
  policy: IPolicy;
}

/** One official `openai` client and one resilience policy (with its breaker) per provider. */
@Injectable()
export class ProviderRegistry {
  private readonly logger = new Logger('Llm');
  private readonly providers = new Map<string, Provider>();

  constructor(config: AppConfig, metrics: Metrics) {
    const { retry, breaker } = config.llm;
    const retries = metrics.counter({
      name: 'parley_llm_retries_total',
      help: 'Retried LLM provider calls, by provider.',
      labelNames: ['provider'],
    });
    const open = metrics.gauge({
      name: 'parley_llm_breaker_open',
      help: '1 while the provider’s circuit breaker is open (calls refused), else 0.',
      labelNames: ['provider'],
    });
    for (const p of config.llm.resolvedProviders) {
      const client = new OpenAI({
        baseURL: p.baseUrl,
        // Local servers (Ollama, vLLM) often need no key; the client insists on one.
        apiKey: p.apiKey ?? 'not-needed',
        // Retries and timeouts belong to the policy, where they are counted and bounded.
        maxRetries: 0,
        timeout: p.timeoutMs * 4,
      });
      const policy = providerPolicy(
        { timeoutMs: p.timeoutMs, ...retry, ...breaker },
        {
          onBreak: () => {
            open.set({ provider: p.name }, 1);
            this.logger.warn(`circuit opened for provider ${p.name}`);
          },
          onReset: () => open.set({ provider: p.name }, 0),
          onRetry: () => retries.inc({ provider: p.name }),
        },
      );
      open.set({ provider: p.name }, 0);
      this.providers.set(p.name, { name: p.name, client, policy });
    }
  }

  get(name: string): Provider {
    const provider = this.providers.get(name);
    if (!provider) throw new Error(`unknown provider ${name}`);
    return provider;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, Metrics } from '@parley/core';
import type { IPolicy } from 'cockatiel';
import { type ChatModel, ChatModelFactory } from './ports/chat-model.port';
import { providerPolicy } from './provider-policy';

export interface Provider {
  name: string;
  model: ChatModel;
  policy: IPolicy;
}

/** One adapter (ChatModelFactory's) and one resilience policy (with its breaker) per provider. */
@Injectable()
export class ProviderRegistry {
  private readonly logger = new Logger('Llm');
  private readonly providers = new Map<string, Provider>();

  constructor(config: AppConfig, metrics: Metrics, factory: ChatModelFactory) {
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
      const model = factory.create(p);
      const policy = providerPolicy({ timeoutMs: p.timeoutMs, ...retry, ...breaker }, model, {
        onBreak: () => {
          open.set({ provider: p.name }, 1);
          this.logger.warn(`circuit opened for provider ${p.name}`);
        },
        onReset: () => open.set({ provider: p.name }, 0),
        onRetry: () => retries.inc({ provider: p.name }),
      });
      open.set({ provider: p.name }, 0);
      this.providers.set(p.name, { name: p.name, model, policy });
    }
  }

  get(name: string): Provider {
    const provider = this.providers.get(name);
    if (!provider) throw new Error(`unknown provider ${name}`);
    return provider;
  }
}

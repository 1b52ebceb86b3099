import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { UnknownModelError } from './llm.errors';

export interface ChainEntry {
  provider: string;
  model: string;
}

/** Turns what a client asks for (an alias, `provider/model`, or a bare model name) into a chain. */
@Injectable()
export class ModelRouter {
  constructor(private readonly config: AppConfig) {}

  get hasProviders(): boolean {
    return this.config.llm.resolvedProviders.length > 0;
  }

  /**
   * Where an embedding model (an alias, `provider/model` or model name; EMBEDDING_MODEL when
   * absent) is served, if one is set. Throws for a name nothing serves.
   */
  embeddingTarget(model?: string): ChainEntry | undefined {
    const name = model ?? this.config.llm.embeddingModel;
    if (!name || !this.hasProviders) return undefined;
    return this.resolve(name)[0];
  }

  /** The vector size to ask embedding models for (EMBEDDING_DIMENSIONS), if set. */
  get embeddingDimensions(): number | undefined {
    return this.config.llm.embeddingDimensions;
  }

  /** The name of the first configured provider, if any. */
  firstProvider(): string | undefined {
    return this.config.llm.resolvedProviders[0]?.name;
  }

  /** Every configured model as `provider/model`. */
  deployments(): string[] {
    return this.config.llm.resolvedProviders.flatMap((p) => p.models.map((m) => `${p.name}/${m}`));
  }

  /** The public names clients may use. */
  publicModels(): string[] {
    return Object.keys(this.config.llm.resolvedAliases);
  }

  resolve(requested: string): ChainEntry[] {
    const { resolvedAliases, resolvedProviders } = this.config.llm;
    if (!this.hasProviders) return [];
    const chain = resolvedAliases[requested];
    if (chain) return chain.map(parse);
    if (requested.includes('/')) {
      const entry = parse(requested);
      if (
        resolvedProviders.some((p) => p.name === entry.provider && p.models.includes(entry.model))
      )
        return [entry];
    }
    const provider = resolvedProviders.find((p) => p.models.includes(requested));
    if (provider) return [{ provider: provider.name, model: requested }];
    throw new UnknownModelError(requested, this.publicModels());
  }
}

function parse(entry: string): ChainEntry {
  const at = entry.indexOf('/');
  return { provider: entry.slice(0, at), model: entry.slice(at + 1) };
}

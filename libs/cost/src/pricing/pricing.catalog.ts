import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig, ConfigError, readConfigFile, USD_PATTERN } from '@parley/core';
import { z } from 'zod';
import { type Nanos, parseUsd } from '../money';

const usd = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().regex(USD_PATTERN, { error: 'expected a US dollar amount as a decimal, e.g. 0.15' }),
);

const pricingSchema = z.strictObject({
  models: z
    .record(
      z.string().min(1),
      z.strictObject({ inputPerMTok: usd, outputPerMTok: usd, cachedInputPerMTok: usd.optional() }),
    )
    .default({}),
  embeddings: z.record(z.string().min(1), z.strictObject({ perMTok: usd })).default({}),
  speechToText: z.record(z.string().min(1), z.strictObject({ perMinute: usd })).default({}),
  textToSpeech: z.record(z.string().min(1), z.strictObject({ perMChars: usd })).default({}),
});

export type PricingFile = z.infer<typeof pricingSchema>;

/** A chat model's prices in nano-dollars per million tokens. */
export interface ChatPrice {
  input: Nanos;
  cachedInput: Nanos;
  output: Nanos;
  source: 'config' | 'tenant' | 'unknown-model-default';
}

/** Per million units (embedding tokens, TTS characters) or per minute (STT). */
export type UnitPrice = Nanos;

/**
 * The prices of config/pricing.yaml, with config/pricing.<APP_ENV>.yaml merged over it, loaded
 * and validated at boot. A model is looked up as `provider/model` first, then by its bare name.
 */
@Injectable()
export class PricingCatalog implements OnModuleInit {
  private readonly logger = new Logger('Pricing');
  private file: PricingFile = { models: {}, embeddings: {}, speechToText: {}, textToSpeech: {} };

  constructor(private readonly config: AppConfig) {}

  onModuleInit(): void {
    const base = this.read('pricing.yaml');
    const overlay = this.read(`pricing.${this.config.app.env}.yaml`);
    this.file = {
      models: { ...base?.models, ...overlay?.models },
      embeddings: { ...base?.embeddings, ...overlay?.embeddings },
      speechToText: { ...base?.speechToText, ...overlay?.speechToText },
      textToSpeech: { ...base?.textToSpeech, ...overlay?.textToSpeech },
    };
    this.logger.log(`prices for ${Object.keys(this.file.models).length} chat models`);
  }

  /** Every configured chat price, for the admin listing. */
  chatModels(): PricingFile['models'] {
    return this.file.models;
  }

  /** The configured chat price, or the unknown-model default, or undefined (refused). */
  chat(provider: string, model: string): ChatPrice | undefined {
    const entry = this.file.models[`${provider}/${model}`] ?? this.file.models[model];
    if (entry) return toChatPrice(entry, 'config');
    return this.unknownModel();
  }

  /**
   * The configured price an override named `model` stands in for (a tenant admin's override may
   * not go below it): the dearest, component by component, of every catalog entry it can shadow
   * (`model` itself, `<provider>/model`, or for `provider/name` the bare `name`); the
   * unknown-model default when there is none; undefined when the model is priced nowhere.
   */
  reference(model: string): ChatPrice | undefined {
    const slash = model.indexOf('/');
    const bare = slash > 0 ? model.slice(slash + 1) : undefined;
    const shadowed = Object.entries(this.file.models)
      .filter(([name]) => name === model || name.endsWith(`/${model}`) || name === bare)
      .map(([, entry]) => toChatPrice(entry, 'config'));
    if (shadowed.length === 0) return this.unknownModel();
    return shadowed.reduce((a, b) => atLeast(a, b));
  }

  /** COST_UNKNOWN_MODEL_*: the price of chat models listed nowhere, when both are set. */
  private unknownModel(): ChatPrice | undefined {
    const fallback = this.config.cost.unknownModelPrice;
    if (fallback.inputPerMTok && fallback.outputPerMTok)
      return toChatPrice(
        { inputPerMTok: fallback.inputPerMTok, outputPerMTok: fallback.outputPerMTok },
        'unknown-model-default',
      );
    return undefined;
  }

  /** Nano-dollars per million tokens (embeddings), per minute (STT), per million characters (TTS). */
  unit(
    kind: 'embedding' | 'speech_to_text' | 'text_to_speech',
    model: string,
  ): UnitPrice | undefined {
    // An unlisted embedding model is priced like the input tokens of an unlisted chat model.
    if (kind === 'embedding')
      return opt(
        this.file.embeddings[model]?.perMTok ?? this.config.cost.unknownModelPrice.inputPerMTok,
      );
    if (kind === 'speech_to_text') return opt(this.file.speechToText[model]?.perMinute);
    return opt(this.file.textToSpeech[model]?.perMChars);
  }

  private read(name: string): PricingFile | undefined {
    const raw = readConfigFile(this.config.configDir, name);
    if (raw === undefined) return undefined;
    const parsed = pricingSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(`${name}: ${issue.path.join('.') || '(root)'}`, issue.message);
    }
    return parsed.data;
  }
}

/** Decimal prices per million tokens → nano-dollars; cached input costs as input unless given. */
export function toChatPrice(
  p: { inputPerMTok: string; outputPerMTok: string; cachedInputPerMTok?: string | null },
  source: ChatPrice['source'],
): ChatPrice {
  return {
    input: parseUsd(p.inputPerMTok),
    cachedInput: parseUsd(p.cachedInputPerMTok ?? p.inputPerMTok),
    output: parseUsd(p.outputPerMTok),
    source,
  };
}

/** Each component of `price`, raised to the floor's where that is dearer. */
export function atLeast(price: ChatPrice, floor: ChatPrice): ChatPrice {
  const max = (a: Nanos, b: Nanos) => (a > b ? a : b);
  return {
    input: max(price.input, floor.input),
    cachedInput: max(price.cachedInput, floor.cachedInput),
    output: max(price.output, floor.output),
    source: price.source,
  };
}

const opt = (usdText: string | undefined): Nanos | undefined =>
  usdText === undefined ? undefined : parseUsd(usdText);

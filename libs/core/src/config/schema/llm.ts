import { z } from 'zod';
import { int, optionalString, url } from './primitives';

/** The `llm` namespace of the configuration. */
export const llmConfig = {
  llm: z.strictObject({
    // One provider from the environment alone (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL).
    baseUrl: url(['http:', 'https:']),
    apiKey: optionalString,
    model: optionalString,
    embeddingModel: optionalString,
    /** Asks the embedding model for vectors of this size (models that support `dimensions`). */
    embeddingDimensions: z.preprocess(
      (v) => (v === '' || v === null ? undefined : typeof v === 'string' ? Number(v) : v),
      z
        .number({ error: 'expected a whole number between 8 and 16000' })
        .int({ error: 'expected a whole number between 8 and 16000' })
        .min(8, { error: 'expected a whole number between 8 and 16000' })
        .max(16_000, { error: 'expected a whole number between 8 and 16000' })
        .optional(),
    ),
    providers: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
            error: 'expected a lower-case provider name',
          }),
          baseUrl: z
            .string()
            .url({ error: 'expected the provider base URL, e.g. https://api.openai.com/v1' }),
          /** The environment variable holding this provider's API key (never the key itself). */
          apiKeyEnv: z
            .string()
            .regex(/^[A-Z][A-Z0-9_]*$/, { error: 'expected an environment variable name' })
            .optional(),
          timeoutMs: int(100, 600_000).optional(),
          models: z.array(z.string().min(1)).min(1),
        }),
      )
      .default([]),
    /** Public model names → ordered chains of `provider/model` (primary first, then fallbacks). */
    aliases: z
      .record(z.string().regex(/^[A-Za-z0-9._:-]+$/), z.array(z.string().min(1)).min(1))
      .default({}),
    timeoutMs: int(100, 600_000),
    /** A stream that sends nothing for this long after its first token is aborted. */
    streamIdleTimeoutMs: int(100, 600_000),
    retry: z.strictObject({
      maxAttempts: int(1, 10),
      baseDelayMs: int(1, 60_000),
      maxDelayMs: int(1, 300_000),
    }),
    breaker: z.strictObject({
      failureThreshold: int(1, 1000),
      halfOpenAfterMs: int(100, 3_600_000),
    }),
  }),
};

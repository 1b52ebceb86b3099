import { z } from 'zod';
import { PII_TYPES } from '../detectors/pii.detector';

export const ACTIONS = ['off', 'flag', 'redact', 'block'] as const;
export type GuardrailAction = (typeof ACTIONS)[number];

const threshold = z.number().min(0).max(1);
const rule = (actions: readonly GuardrailAction[]) =>
  z.strictObject({
    action: z.enum(actions as [GuardrailAction, ...GuardrailAction[]]),
    threshold: threshold.optional(),
  });
const piiRule = z.strictObject({
  action: z.enum(ACTIONS),
  threshold: threshold.optional(),
  /** Which PII types count; all when omitted. */
  types: z.array(z.enum(PII_TYPES as [string, ...string[]])).optional(),
});

/** What a tenant's policy says, per direction and detector. Every key is optional in an override. */
export const policySchema = z.strictObject({
  input: z.strictObject({
    prompt_injection: rule(['off', 'flag', 'block']),
    pii: piiRule,
    toxicity: rule(['off', 'flag', 'block']),
    off_topic: rule(['off', 'flag', 'block']).extend({
      /** With embeddings: a message less similar than this to every topic is off-topic. */
      minSimilarity: z.number().min(-1).max(1).optional(),
      topics: z
        .array(
          z.strictObject({
            name: z.string().min(1).max(100),
            description: z.string().max(1000),
            keywords: z.array(z.string().min(1).max(100)).max(200).optional(),
          }),
        )
        .max(50)
        .default([]),
    }),
  }),
  output: z.strictObject({
    pii: piiRule,
    prompt_leak: rule(['off', 'flag', 'block']).extend({
      /** A run of this many words of the system prompt, verbatim, is a leak. */
      minWords: z.number().int().min(5).max(200).optional(),
    }),
    toxicity: rule(['off', 'flag', 'block']),
  }),
  /** A provider's moderation endpoint for toxicity, beside the local lexicon. */
  moderation: z.strictObject({
    enabled: z.boolean(),
    timeoutMs: z.number().int().min(50).max(60_000),
    /** When it errors or times out: `closed` blocks, `open` lets the message through, flagged. */
    onError: z.enum(['open', 'closed']),
  }),
});

export type GuardrailPolicy = z.infer<typeof policySchema>;

/** An override as stored: any subset of the policy. */
export const overrideSchema = deepPartial(policySchema);
export type PolicyOverride = z.infer<typeof overrideSchema>;

function deepPartial<T extends z.ZodType>(schema: T): z.ZodType {
  if (schema instanceof z.ZodObject) {
    const shape = Object.fromEntries(
      Object.entries(schema.shape as Record<string, z.ZodType>).map(([k, v]) => [
        k,
        deepPartial(v).optional(),
      ]),
    );
    return z.strictObject(shape);
  }
  if (schema instanceof z.ZodDefault) return deepPartial(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodOptional) return deepPartial(schema.unwrap() as z.ZodType);
  return schema;
}

/** Deep merge: objects merge, everything else (arrays included) is replaced. */
export function mergePolicy<T>(base: T, override: unknown): T {
  if (!isObject(base) || !isObject(override))
    return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = mergePolicy(out[k], v);
  return out as T;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

import { z } from 'zod';

/**
 * The shared primitives of the configuration schema.
 */

// Values from the environment arrive as strings; YAML gives real types. These helpers accept
// both so one schema validates every source.
export const bool = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    return v;
  },
  z.boolean({ error: 'expected true or false' }),
);

export const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z
      .number({ error: `expected a whole number between ${min} and ${max}` })
      .int({ error: `expected a whole number between ${min} and ${max}` })
      .min(min, { error: `expected a whole number between ${min} and ${max}` })
      .max(max, { error: `expected a whole number between ${min} and ${max}` }),
  );

/** `a, b ,c` → `['a', 'b', 'c']`; anything else is left for the schema to judge. */
export const splitList = (v: unknown): unknown =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v;

export const list = z.preprocess(splitList, z.array(z.string().min(1)));

export const optionalString = z.preprocess(
  (v) => (v === '' || v === null ? undefined : v),
  z.string().min(1).optional(),
);

export const url = (protocols: string[]) =>
  z.preprocess(
    (v) => (v === '' || v === null ? undefined : v),
    z
      .string()
      .refine(
        (s) => {
          try {
            return protocols.includes(new URL(s).protocol);
          } catch {
            return false;
          }
        },
        { error: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
      )
      .optional(),
  );

/**
 * `trust proxy` as Fastify takes it: a boolean or a list of proxy addresses/CIDRs. (Fastify 5
 * treats a bare hop count as "trust nobody", so it is not offered.)
 */
export const trustProxy = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim();
    if (/^(true|false)$/i.test(s)) return s.toLowerCase() === 'true';
    return s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
  },
  z.union([z.boolean(), z.array(z.string().min(1))], {
    error: 'expected true, false, or a comma-separated list of proxy addresses or CIDRs',
  }),
);

/** `{limit, ttlSeconds}`, or from the environment `limit/seconds` (e.g. `20/60`). */
export const rateLimit = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
    return m ? { limit: Number(m[1]), ttlSeconds: Number(m[2]) } : v;
  },
  z.strictObject(
    { limit: int(1, 1_000_000), ttlSeconds: int(1, 86_400) },
    { error: 'expected limit/seconds, e.g. 20/60' },
  ),
);

/** `kid:secret` pairs, comma-separated; the first signs, all verify (rotation). */
export const signingKeys = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? (splitList(v) as string[]).map((pair) => {
          const at = pair.indexOf(':');
          return at > 0
            ? { kid: pair.slice(0, at), secret: pair.slice(at + 1) }
            : { kid: '', secret: pair };
        })
      : (v ?? []),
  z.array(
    z.strictObject({
      kid: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'each key needs an id: write kid:secret' }),
      secret: z.string().min(32, { error: 'each secret must be at least 32 characters' }),
    }),
  ),
);

/** A US dollar amount as a decimal string (money is never a float); YAML numbers are accepted. */
export const USD_PATTERN = /^\d{1,11}(\.\d{1,9})?$/;
export const usd = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().regex(USD_PATTERN, {
    error: 'expected a US dollar amount as a decimal, e.g. 100 or 0.50 (at most 9 decimals)',
  }),
);

export const fraction = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  z
    .number({ error: 'expected a number between 0 and 1' })
    .gt(0, { error: 'expected a number between 0 and 1' })
    .max(1, { error: 'expected a number between 0 and 1' }),
);

export const BUDGET_SCOPES = ['global', 'tenant', 'user', 'apiKey'] as const;
export const BUDGET_PERIODS = ['day', 'month'] as const;

import { z } from 'zod';

// Values from the environment arrive as strings; YAML gives real types. These helpers accept
// both so one schema validates every source.
const bool = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    return v;
  },
  z.boolean({ error: 'expected true or false' }),
);

const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z
      .number({ error: `expected a whole number between ${min} and ${max}` })
      .int({ error: `expected a whole number between ${min} and ${max}` })
      .min(min, { error: `expected a whole number between ${min} and ${max}` })
      .max(max, { error: `expected a whole number between ${min} and ${max}` }),
  );

const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);

const optionalString = z.preprocess(
  (v) => (v === '' || v === null ? undefined : v),
  z.string().min(1).optional(),
);

const url = (protocols: string[]) =>
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
const trustProxy = z.preprocess(
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

export const configSchema = z
  .object({
    app: z.strictObject({
      name: z.string().min(1),
      env: z.string().min(1),
    }),
    server: z.strictObject({
      host: z.string().min(1),
      port: int(0, 65535),
      bodyLimitBytes: int(1024, 1024 * 1024 * 1024),
      trustProxy,
      corsOrigins: list,
      shutdownTimeoutMs: int(0, 600_000),
      docs: bool,
    }),
    log: z.strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      format: z.enum(['auto', 'json', 'pretty']),
    }),
    database: z.strictObject({
      url: url(['postgres:', 'postgresql:']),
      poolSize: int(1, 500),
      statementTimeoutMs: int(0, 3_600_000),
      connectTimeoutMs: int(100, 600_000),
      ssl: z.strictObject({
        enabled: bool,
        rejectUnauthorized: bool,
        ca: optionalString,
      }),
      migrateOnBoot: z.union([bool, z.literal('auto')]),
      embedded: z.strictObject({
        dataDir: z.string().min(1),
        lockWaitMs: int(0, 600_000),
      }),
    }),
    redis: z.strictObject({
      url: url(['redis:', 'rediss:']),
      keyPrefix: z.string(),
    }),
    queue: z.strictObject({
      workersInProcess: z.union([bool, z.literal('auto')]),
      queues: list,
      concurrency: int(1, 1000),
      postgresSchema: z.string().regex(/^[a-z_][a-z0-9_]*$/, {
        error: 'expected a lower-case SQL identifier',
      }),
    }),
    worker: z.strictObject({
      host: z.string().min(1),
      healthPort: int(0, 65535),
    }),
    security: z.strictObject({
      helmet: bool,
    }),
    llm: z.strictObject({
      baseUrl: url(['http:', 'https:']),
      apiKey: optionalString,
      model: optionalString,
      embeddingModel: optionalString,
    }),
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;

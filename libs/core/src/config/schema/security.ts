import { z } from 'zod';
import { bool, int, splitList, optionalString, rateLimit, signingKeys } from './primitives';

/** The `security`, `rateLimit`, `metrics` namespaces of the configuration. */
export const securityConfig = {
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
};

import { z } from 'zod';
import { bool, int, list, trustProxy } from './primitives';

/** The `app`, `server`, `console`, `log` namespaces of the configuration. */
export const serverConfig = {
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
};

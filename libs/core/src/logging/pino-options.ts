import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import type { AppConfig } from '../config/app-config';
import { activeTraceIds } from '../telemetry/spans';

/** Paths pino blanks out wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'req.headers["sec-websocket-protocol"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.secret',
  '*.authorization',
  'password',
  'token',
  'apiKey',
  'secret',
];

export function pinoOptions(config: AppConfig): Options {
  return {
    level: config.log.level,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    base: { app: config.app.name },
    // trace_id and span_id of the active span on every line, so a log search leads to the trace.
    mixin: () => activeTraceIds(),
    // The request id is chosen by Fastify (see request-id.ts) and stored on the raw request.
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? '',
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    // Health probes every few seconds would drown the log.
    autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health') ?? false },
    serializers: {
      req: (req: {
        id: string;
        method: string;
        url: string;
        remoteAddress?: string;
        headers?: Record<string, unknown>;
      }) => ({
        id: req.id,
        method: req.method,
        // Query strings may carry tokens a client should not have sent; keep only the path.
        url: req.url?.split('?')[0],
        remoteAddress: req.remoteAddress,
        userAgent: req.headers?.['user-agent'],
      }),
      // Response headers add nothing an operator needs on every line.
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    ...(config.log.format === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
          },
        }
      : {}),
  };
}

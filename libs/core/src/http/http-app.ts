import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { recordHttpMetrics } from '../metrics/http-metrics';
import { Metrics } from '../metrics/metrics.service';
import type { AppConfig } from '../config/app-config';
import { UnsupportedMediaTypeError } from '../errors/core.errors';
import { toAppError } from '../errors/problem-details';
import { sendProblem } from '../errors/problem.filter';
import { setupOpenApi } from '../openapi/openapi';
import { jsonBodyParser } from './json-body';
import { ACCEPTS_UPLOADS } from './multipart-upload';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';
import { createValidationPipe } from './validation';

/**
 * The Content-Security-Policy of every response: scripts and styles from this origin only, no
 * `unsafe-inline` (the console's index.html adds a per-response nonce for its `<style>` tags).
 */
const STRICT_CSP = {
  defaultSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  scriptSrc: ["'self'"],
  // Helmet's default would make a browser fetch the console's and Swagger UI's files over https
  // when Parley is reached over plain http (a LAN address, compose): nothing would load. TLS,
  // where it is used, is the ingress's job, with HSTS.
  upgradeInsecureRequests: null,
};
const THIRD_PARTY_UI = /^\/(docs|admin\/queues)(\/|$)/;
const THIRD_PARTY_UI_CSP = {
  ...STRICT_CSP,
  styleSrc: ["'self'", "'unsafe-inline'"],
  scriptSrc: ["'self'", "'unsafe-inline'"],
};

/** The Fastify adapter with Parley's limits, proxy trust and request ids. */
export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    genReqId: requestIdFor,
    // Fastify's own request logging is replaced by nestjs-pino's one line per request.
    logger: false,
    // Idle keep-alive sockets close at shutdown; busy ones finish their request first.
    forceCloseConnections: 'idle',
    // Errors of the router itself (a path segment over maxParamLength, a malformed
    // percent-encoding) come before any route, hook or exception filter: problem details too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      sendProblem(request, reply, toAppError(error));
    },
  });
}

export interface HttpAppOptions {
  /** Title and description of the OpenAPI document. */
  openApi?: { title: string; description: string; version: string };
}

/**
 * Applies the HTTP behaviour every Parley server shares: security headers, CORS allowlist,
 * validation, request id echo and the OpenAPI document. Used by the api app and by e2e tests,
 * so tests exercise the same stack that production runs.
 */
export async function configureHttpApp(
  app: NestFastifyApplication,
  config: AppConfig,
  options: HttpAppOptions = {},
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  recordHttpMetrics(fastify, app.get(Metrics));
  if (config.security.helmet) {
    await app.register(helmet as never, { contentSecurityPolicy: { directives: STRICT_CSP } });
    // The third-party UIs (Swagger UI at /docs, bull-board at /admin/queues) need inline styles
    // and scripts: their routes, and only theirs, get a policy that allows them.
    fastify.addHook('onRoute', (route) => {
      if (!THIRD_PARTY_UI.test(route.url)) return;
      const routeConfig = (route.config ?? {}) as Record<string, unknown>;
      route.config = {
        ...routeConfig,
        helmet: { contentSecurityPolicy: { directives: THIRD_PARTY_UI_CSP } },
      } as never;
    });
  }
  // Cookies: the refresh-token cookie of browser sessions (the console).
  await app.register(cookie as never);
  // File uploads (knowledge-base documents, audio): one file per request, each route reading
  // the parts with its own size limit. Elsewhere a multipart body fails validation like an
  // empty one.
  await app.register(multipart as never, {
    limits: {
      fileSize: Math.max(config.rag.maxDocumentBytes, config.audio.maxUploadBytes),
      files: 1,
      fields: 10,
      fieldSize: 64 * 1024,
    },
  });
  // Only the routes that read uploads take multipart bodies; elsewhere one would reach the
  // handler as an empty body, which for some routes is a valid request.
  fastify.addHook('preValidation', async (request) => {
    const route = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
    if (!request.is404 && request.isMultipart() && !route?.[ACCEPTS_UPLOADS])
      throw new UnsupportedMediaTypeError(
        'This endpoint does not take multipart uploads; send application/json.',
      );
  });
  // JSON bodies: Fastify's parser behind a nesting-depth check.
  app.useBodyParser(
    'application/json',
    { bodyLimit: config.server.bodyLimitBytes },
    jsonBodyParser(fastify),
  );
  const allowed = new Set(config.server.corsOrigins);
  app.enableCors({
    // A disallowed origin gets no CORS headers at all, so the browser blocks the response.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    exposedHeaders: [
      REQUEST_ID_HEADER,
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
    ],
    maxAge: 600,
  });
  app.useGlobalPipes(createValidationPipe());
  // WebSocket gateways (ws) share the HTTP server and its port.
  app.useWebSocketAdapter(new WsAdapter(app));
  if (config.server.docs && options.openApi) setupOpenApi(app as INestApplication, options.openApi);
}

import type { ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  type AppConfig,
  configureHttpApp,
  createBootLogger,
  createFastifyAdapter,
  serveConsole,
} from '@parley/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';

export const API_DESCRIPTION = {
  title: 'Parley API',
  description:
    'Self-hostable backend for conversational and voice AI. Errors are RFC 9457 problem details ' +
    '(application/problem+json) with a stable `code` and the `requestId`.\n\n' +
    'Two WebSocket endpoints are outside this document: `/v1/ws` (chat events and job ' +
    'notifications) and `/v1/voice` (realtime voice sessions: streamed PCM16 audio in, ' +
    'voice activity detection, transcripts, the answer as text and speech, barge-in; its ' +
    'protocol is the JSON Schema docs/voice-protocol.schema.json). Both authenticate the ' +
    'upgrade with the same bearer token or API key as HTTP; see the README.',
  version: '0.1.0',
};

/**
 * Builds the api application (not yet listening); main.ts and the e2e tests share it.
 * `imports` adds modules, which is how tests mount test-only routes.
 */
export async function createApiApp(
  config: AppConfig,
  options: { imports?: ModuleMetadata['imports'] } = {},
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, options.imports),
    createFastifyAdapter(config),
    { logger: createBootLogger(config), abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  await configureHttpApp(app, config, { openApi: API_DESCRIPTION });
  // The admin console (apps/console, built into dist/console) at /console.
  await serveConsole(app, config);
  return app;
}

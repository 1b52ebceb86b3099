import './instrument';
import 'reflect-metadata';
import { installGracefulShutdown, loadConfigOrExit, runOrExit } from '@parley/core';
import { Logger } from 'nestjs-pino';
import { createApiApp } from './bootstrap';

void runOrExit(async () => {
  const config = loadConfigOrExit();
  const started = Date.now();
  const app = await createApiApp(config);
  const logger = app.get(Logger);
  installGracefulShutdown(app, { timeoutMs: config.server.shutdownTimeoutMs, logger });
  await app.listen({ port: config.server.port, host: config.server.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  logger.log(
    `Parley api listening on http://${config.server.host}:${port} (${config.mode} mode, ready in ${Date.now() - started} ms); docs at /docs`,
    'Bootstrap',
  );
});

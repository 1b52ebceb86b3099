import './instrument';
import 'reflect-metadata';
import { installGracefulShutdown, loadConfigOrExit, runOrExit } from '@parley/core';
import { Logger } from 'nestjs-pino';
import { createWorkerApp } from './bootstrap';

void runOrExit(async () => {
  const config = loadConfigOrExit();
  const app = await createWorkerApp(config);
  const logger = app.get(Logger);
  installGracefulShutdown(app, { timeoutMs: config.server.shutdownTimeoutMs, logger });
  await app.listen({ port: config.worker.healthPort, host: config.worker.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.worker.healthPort;
  logger.log(
    `Parley worker running; health on http://${config.worker.host}:${port}/health/ready`,
    'Bootstrap',
  );
});

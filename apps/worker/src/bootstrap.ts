import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, createBootLogger, createFastifyAdapter } from '@parley/core';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker.module';

/**
 * The worker: runs the queue processors, and serves only /health/live and /health/ready on
 * its own port for Kubernetes probes.
 */
export async function createWorkerApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    WorkerModule.forRoot(config),
    createFastifyAdapter(config),
    { logger: createBootLogger(config), abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  // The feature modules a job needs (a voice turn runs the chat pipeline) bring their routes;
  // the worker serves none of them, only its probes and its metrics.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/health/') && !request.url.startsWith('/metrics'))
        await reply.code(404).send();
    });
  return app;
}

// An api process with one extra slow route, for the graceful-shutdown test: it runs the real
// bootstrap and signal handling of apps/api, plus GET /test/slow?ms=.
import 'reflect-metadata';
import { Controller, Get, Module, Query } from '@nestjs/common';
import { installGracefulShutdown, loadConfigOrExit, Public, runOrExit } from '@parley/core';
import { Logger } from 'nestjs-pino';
import { createApiApp } from '../../apps/api/src/bootstrap';

@Public()
@Controller('test')
class SlowController {
  @Get('slow')
  async slow(@Query('ms') ms = '1000'): Promise<{ waitedMs: number }> {
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    return { waitedMs: Number(ms) };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

void runOrExit(async () => {
  const config = loadConfigOrExit();
  const app = await createApiApp(config, { imports: [SlowModule] });
  const logger = app.get(Logger);
  installGracefulShutdown(app, { timeoutMs: config.server.shutdownTimeoutMs, logger });
  await app.listen({ port: config.server.port, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  logger.log(`test api listening on http://127.0.0.1:${address.port}`, 'Bootstrap');
});

import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { AppConfig } from '../config/app-config';
import { Metrics } from './metrics.service';
import { scrapeAllowed } from './scrape-auth';

/**
 * /metrics on its own port (METRICS_PORT), so that a NetworkPolicy or a Service can keep it
 * apart from the API: behind METRICS_TOKEN when set, open otherwise. A plain node:http server:
 * it serves one route and nothing else.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Metrics');
  private server?: Server;

  constructor(
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metrics.port;
    if (!port) {
      if (!this.config.metrics.token)
        this.logger.log(
          '/metrics is off: set METRICS_TOKEN (scrape with a bearer token) or METRICS_PORT (a port of its own)',
        );
      return;
    }
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      if (!scrapeAllowed(request.headers.authorization, this.config.metrics.token)) {
        response
          .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
          .end('send Authorization: Bearer <METRICS_TOKEN>\n');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) =>
          response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(`${error.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.server.host, () => resolve());
    });
    this.server = server;
    this.logger.log(`metrics on http://${this.config.server.host}:${port}/metrics`);
  }

  async onModuleDestroy(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

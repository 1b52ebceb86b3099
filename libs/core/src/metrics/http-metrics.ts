import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.service';

/**
 * Request duration by route template (never the raw URL: ids would make the labels unbounded),
 * method and status, measured by Fastify from the first byte read to the last byte written.
 */
export function recordHttpMetrics(fastify: FastifyInstance, metrics: Metrics): void {
  const duration = metrics.histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status.',
    labelNames: ['route', 'method', 'status_code'],
  });
  // A client that hangs up before the answer gets no response, so onResponse never runs:
  // counted as nginx's 499, so disconnects show up without passing for server errors.
  fastify.addHook('onRequest', async (request, reply) => {
    const since = performance.now();
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      duration.observe(
        {
          route: request.routeOptions?.url ?? 'unmatched',
          method: request.method,
          status_code: '499',
        },
        (performance.now() - since) / 1000,
      );
    });
  });
  fastify.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        route: request.routeOptions?.url ?? 'unmatched',
        method: request.method,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}

import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { shutdownTelemetry, startTelemetry, telemetryStarted } from './telemetry-sdk';
import { tracer } from './spans';

/** Headers of one fetch made under an active span, as a server receives them. */
async function headersOfTracedFetch(): Promise<IncomingHttpHeaders> {
  let received: IncomingHttpHeaders = {};
  const server = createServer((req, res) => {
    received = req.headers;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await tracer().startActiveSpan('caller', async (span) => {
      await (await fetch(`http://127.0.0.1:${port}/`)).text();
      span.end();
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
  return received;
}

describe('telemetry SDK lifecycle', () => {
  afterAll(() => shutdownTelemetry());

  it('propagates the trace on outgoing fetches while started, and leaves no trace of itself once shut down', async () => {
    startTelemetry({
      serviceName: 'parley-test',
      spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
    });
    expect(telemetryStarted()).toBe(true);
    expect((await headersOfTracedFetch()).traceparent).toMatch(/^00-[0-9a-f]{32}-/);

    await shutdownTelemetry();
    expect(telemetryStarted()).toBe(false);
    // The SDK's own shutdown kept the propagator: a later process-wide fetch still carried
    // the header, so a traced server saw a parent that no exporter ever received.
    expect((await headersOfTracedFetch()).traceparent).toBeUndefined();
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP/HTTP JSON export carries it, with its attributes flattened. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP's span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
  links: { traceId: string; spanId: string }[];
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };

const valueOf = (v: AnyValue): unknown =>
  v.stringValue ??
  (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
  v.doubleValue ??
  v.boolValue ??
  v.arrayValue?.values?.map(valueOf);

const attributesOf = (list: KeyValue[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/**
 * An OpenTelemetry collector stand-in on loopback: accepts OTLP/HTTP JSON trace exports
 * (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) on /v1/traces and keeps the spans.
 */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpCollector> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const collector = new OtlpCollector(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') collector.accept(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    return collector;
  }

  private accept(payload: {
    resourceSpans?: {
      resource?: { attributes?: KeyValue[] };
      scopeSpans?: { spans?: Record<string, any>[] }[];
    }[];
  }): void {
    for (const resource of payload.resourceSpans ?? []) {
      const service = String(attributesOf(resource.resource?.attributes)['service.name'] ?? '');
      for (const scope of resource.scopeSpans ?? [])
        for (const s of scope.spans ?? [])
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind,
            service,
            attributes: attributesOf(s.attributes),
            status: s.status ?? {},
            links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({
              traceId: l.traceId,
              spanId: l.spanId,
            })),
          });
    }
  }

  /** Waits until a span matching `predicate` has arrived (exports are batched). */
  async waitFor(
    predicate: (span: CollectedSpan) => boolean,
    timeoutMs = 20_000,
  ): Promise<CollectedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `no such span after ${timeoutMs} ms; received: ${[...new Set(this.spans.map((s) => s.name))].join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close = () => new Promise<void>((r) => this.server.close(() => r()));
}

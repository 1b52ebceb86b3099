import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tenant's API on loopback: records what it received, answers as the test says. */
export class TenantApi {
  readonly received: {
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
    body: string;
  }[] = [];
  answer: (url: string) => { status: number; body: string; delayMs?: number } = () => ({
    status: 200,
    body: '{}',
  });
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<TenantApi> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = new TenantApi(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        api.received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const { status, body: out, delayMs } = api.answer(req.url!);
        setTimeout(
          () => res.writeHead(status, { 'content-type': 'application/json' }).end(out),
          delayMs ?? 0,
        );
      });
    });
    return api;
  }

  close = () => new Promise<void>((r) => this.server.close(() => r()));
}

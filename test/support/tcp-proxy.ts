import { createServer, type Server, type Socket, connect } from 'node:net';

/** What the proxy does to the traffic it carries. */
type Fault =
  | { kind: 'none' }
  /** Connections stay open but nothing gets through, either way (a black hole). */
  | { kind: 'hang' }
  /** Every chunk is held this long before it is passed on (order kept). */
  | { kind: 'latency'; ms: number }
  /** Each connection carries this many bytes from the server, then is reset. */
  | { kind: 'cut-after'; bytes: number };

/**
 * A loopback TCP proxy in front of a real server (Postgres, Redis), so a test can inject
 * network faults for real: `cut()` resets every connection and refuses new ones (down),
 * `hang()` black-holes them, `latency(ms)` delays every chunk, `cutAfterBytes(n)` resets each
 * connection once the server has sent n bytes on it; `restore()` lets traffic through again
 * (and resets connections left hung, so clients reconnect cleanly).
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private open = true;
  private fault: Fault = { kind: 'none' };
  private server?: Server;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (!this.open) return client.destroy();
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      let fromServer = 0;
      this.forward(client, upstream, () => true);
      this.forward(upstream, client, (chunk) => {
        if (this.fault.kind !== 'cut-after') return true;
        fromServer += chunk.length;
        if (fromServer <= this.fault.bytes) return true;
        client.write(chunk.subarray(0, chunk.length - (fromServer - this.fault.bytes)));
        client.destroy();
        upstream.destroy();
        return false;
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Passes `from`'s data to `to` under the current fault; `admit` may stop a chunk. */
  private forward(from: Socket, to: Socket, admit: (chunk: Buffer) => boolean): void {
    let queue = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const fault = this.fault;
      if (fault.kind === 'hang') return; // swallowed
      if (!admit(chunk)) return;
      if (fault.kind === 'latency') {
        // Each chunk leaves `ms` after it arrived, in order: latency, not a bandwidth limit.
        const due = Date.now() + fault.ms;
        queue = queue
          .then(() => new Promise((r) => setTimeout(r, Math.max(0, due - Date.now()))))
          .then(() => {
            if (!to.destroyed) to.write(chunk);
          });
      } else to.write(chunk);
    });
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  hang(): void {
    this.fault = { kind: 'hang' };
  }

  latency(ms: number): void {
    this.fault = { kind: 'latency', ms };
  }

  cutAfterBytes(bytes: number): void {
    this.fault = { kind: 'cut-after', bytes };
  }

  restore(): void {
    // A hung connection has lost bytes: its protocol state is broken, so it goes.
    if (this.fault.kind === 'hang') for (const s of this.sockets) s.destroy();
    this.fault = { kind: 'none' };
    this.open = true;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/**
 * A proxy in front of the server a URL points to (postgres://…, redis://…), and the same URL
 * pointed at the proxy: the app reaches the server only through it, so `cut()` is an outage.
 */
export async function proxied(
  serverUrl: string,
  defaultPort: number,
): Promise<{ proxy: TcpProxy; url: string }> {
  const url = new URL(serverUrl);
  const proxy = await new TcpProxy(url.hostname, Number(url.port || defaultPort)).start();
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return { proxy, url: url.toString() };
}

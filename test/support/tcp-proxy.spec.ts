import { createServer, type Server, connect } from 'node:net';
import { TcpProxy } from './tcp-proxy';

/** An echo server, the proxy in front of it, and a client that sends and reads back. */
describe('TcpProxy faults', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    proxy = await new TcpProxy('127.0.0.1', (echo.address() as { port: number }).port).start();
  });
  afterAll(async () => {
    await proxy.stop();
    await new Promise((r) => echo.close(r));
  });
  afterEach(() => proxy.restore());

  /** Sends `text`, collects what comes back for `waitMs`; reports whether the socket was reset. */
  const roundTrip = (text: string, waitMs = 300) =>
    new Promise<{ received: string; closed: boolean; ms: number }>((resolve) => {
      const started = Date.now();
      let received = '';
      let closed = false;
      let firstAt = 0;
      const socket = connect(proxy.port, '127.0.0.1', () => socket.write(text));
      socket.on('data', (d) => {
        firstAt ||= Date.now();
        received += d.toString();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => (closed = true));
      setTimeout(() => {
        socket.destroy();
        resolve({ received, closed, ms: firstAt ? firstAt - started : -1 });
      }, waitMs);
    });

  it('passes traffic through', async () => {
    expect((await roundTrip('hello')).received).toBe('hello');
  });

  it('delays every chunk with latency()', async () => {
    proxy.latency(150);
    const { received, ms } = await roundTrip('slow', 800);
    expect(received).toBe('slow');
    expect(ms).toBeGreaterThanOrEqual(280); // there and back
  });

  it('black-holes the traffic with hang(), keeping the connection open', async () => {
    proxy.hang();
    const { received, closed } = await roundTrip('lost');
    expect(received).toBe('');
    expect(closed).toBe(false);
  });

  it('resets a connection after n bytes from the server with cutAfterBytes()', async () => {
    proxy.cutAfterBytes(4);
    const { received, closed } = await roundTrip('0123456789');
    expect(received).toBe('0123');
    expect(closed).toBe(true);
  });

  it('refuses connections while cut, and carries traffic again after restore()', async () => {
    proxy.cut();
    const down = await roundTrip('nobody');
    expect(down.received).toBe('');
    expect(down.closed).toBe(true);
    proxy.restore();
    expect((await roundTrip('back')).received).toBe('back');
  });
});

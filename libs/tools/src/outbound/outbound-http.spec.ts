import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { outboundRequest, type OutboundRequest } from './outbound-http';
import type { OutboundPolicy } from './outbound-policy';

/*
 * Real servers on loopback. Happy paths run with allowPrivateNetworks: true, since loopback is
 * exactly what the policy otherwise refuses. Refusals run with it false and prove that no
 * connection was made: the servers count the connections they accept, and a spy on
 * net.Socket#connect shows that no socket was even opened (for addresses nothing here listens on,
 * like 169.254.169.254). Hostnames under example.test go through a fake resolver passed as the
 * `resolve` seam; its answers take the same checked path as real DNS answers.
 */

interface TestServer {
  server: Server;
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  requests: Array<{
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
    body: string;
  }>;
}

const servers: Server[] = [];

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  host = '127.0.0.1',
  make: (listener: RequestListener) => Server = (listener) => createServer(listener),
): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = make((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  let accepted = 0;
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', () => accepted++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port, connections: () => accepted, requests };
}

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

const privateOk = (allowedHosts = ['127.0.0.1', '*.example.test']): OutboundPolicy => ({
  allowedHosts,
  allowPrivateNetworks: true,
});
const publicOnly = (allowedHosts: string[]): OutboundPolicy => ({
  allowedHosts,
  allowPrivateNetworks: false,
});

const base = { method: 'GET', timeoutMs: 5_000, maxResponseBytes: 1_000_000 } as const;
const req = (url: string, extra: Partial<OutboundRequest> = {}): OutboundRequest => ({
  ...base,
  url,
  ...extra,
});

/** A fake DNS: `answers[hostname]` is what it resolves to; `calls` records each lookup. */
function fakeDns(answers: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const answer = answers[hostname];
    if (!answer) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer;
  };
  return { resolve, calls };
}

/** The error a promise rejects with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (error: Record<string, unknown>) => error,
  );
}

const spyOnConnect = () => jest.spyOn(net.Socket.prototype, 'connect');

/** Addresses sockets start to dial (net's 'connectionAttempt' event), in order. */
function trackDials(): string[] {
  const dials: string[] = [];
  const emit = net.Socket.prototype.emit;
  jest.spyOn(net.Socket.prototype, 'emit').mockImplementation(function (
    this: net.Socket,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (event === 'connectionAttempt') dials.push(String(args[0]));
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  });
  return dials;
}

describe('outboundRequest: the exchange', () => {
  it('returns status, lowercase headers, the UTF-8 body and the final URL', async () => {
    const { port } = await serve((_req, res) => {
      res.setHeader('X-Reply', 'yes');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      // "é" split across two chunks: decoding must join bytes before turning them into text.
      const bytes = Buffer.from('café ✓', 'utf8');
      res.write(bytes.subarray(0, 4));
      setTimeout(() => res.end(bytes.subarray(4)), 10);
    });
    const url = `http://127.0.0.1:${port}/claims/42?x=1`;
    const response = await outboundRequest(req(url), privateOk());
    expect(response).toMatchObject({ status: 200, body: 'café ✓', url });
    expect(response.headers['x-reply']).toBe('yes');
    expect(response.headers['set-cookie']).toBe('a=1, b=2');
  });

  it('sends method, body and headers, but sets Host, framing and encoding itself', async () => {
    const target = await serve((_req, res) => res.end('ok'));
    await outboundRequest(
      req(`http://127.0.0.1:${target.port}/claims`, {
        method: 'post',
        body: '{"id":"ü"}',
        headers: {
          'Content-Type': 'application/json',
          'X-Api-Key': 'k',
          Host: 'internal.admin',
          'Accept-Encoding': 'gzip',
          'Transfer-Encoding': 'chunked',
        },
      }),
      privateOk(),
    );
    const [seen] = target.requests;
    expect(seen).toMatchObject({ method: 'POST', url: '/claims', body: '{"id":"ü"}' });
    expect(seen!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-api-key': 'k',
      host: `127.0.0.1:${target.port}`,
      'accept-encoding': 'identity',
      'content-length': String(Buffer.byteLength('{"id":"ü"}')),
    });
    expect(seen!.headers['transfer-encoding']).toBeUndefined();
  });

  it('returns a redirect status without a Location as an ordinary response', async () => {
    const { port } = await serve((_req, res) => res.writeHead(302).end('nowhere'));
    const response = await outboundRequest(req(`http://127.0.0.1:${port}/`), privateOk());
    expect(response).toMatchObject({ status: 302, body: 'nowhere' });
  });
});

describe('outboundRequest: redirects', () => {
  it('follows a chain and reports the final URL', async () => {
    const target = await serve((req, res) => {
      if (req.url === '/a') return res.writeHead(301, { Location: '/b' }).end();
      if (req.url === '/b') return res.writeHead(308, { Location: '/c?done=1' }).end();
      res.end('landed');
    });
    const response = await outboundRequest(req(`http://127.0.0.1:${target.port}/a`), privateOk());
    expect(response.body).toBe('landed');
    expect(response.url).toBe(`http://127.0.0.1:${target.port}/c?done=1`);
    expect(target.requests.map((r) => r.url)).toEqual(['/a', '/b', '/c?done=1']);
  });

  it.each([
    [303, 'PUT', 'GET', ''],
    [302, 'POST', 'GET', ''],
    [301, 'POST', 'GET', ''],
    [302, 'PUT', 'PUT', 'payload'],
    [307, 'POST', 'POST', 'payload'],
    [308, 'PATCH', 'PATCH', 'payload'],
  ])('after %d, a %s is repeated as %s with body %j', async (status, method, next, body) => {
    const target = await serve((req, res) => {
      if (req.url === '/from') return res.writeHead(status, { Location: '/to' }).end();
      res.end('ok');
    });
    await outboundRequest(
      req(`http://127.0.0.1:${target.port}/from`, {
        method,
        body: 'payload',
        headers: { 'content-type': 'text/plain' },
      }),
      privateOk(),
    );
    const second = target.requests[1]!;
    expect(second).toMatchObject({ method: next, body });
    // Headers that describe a dropped body go with it.
    expect(second.headers['content-type']).toBe(body ? 'text/plain' : undefined);
  });

  it('drops Authorization and Cookie when a redirect changes origin, keeps them otherwise', async () => {
    const other = await serve((_req, res) => res.end('other'));
    const first = await serve((req, res) => {
      if (req.url === '/same') return res.writeHead(302, { Location: '/cross' }).end();
      res.writeHead(302, { Location: `http://127.0.0.1:${other.port}/` }).end();
    });
    await outboundRequest(
      req(`http://127.0.0.1:${first.port}/same`, {
        headers: { Authorization: 'Bearer t', Cookie: 'c=1', 'X-Trace': 'x' },
      }),
      privateOk(),
    );
    expect(first.requests[1]!.headers.authorization).toBe('Bearer t');
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
    expect(other.requests[0]!.headers.cookie).toBeUndefined();
    expect(other.requests[0]!.headers['x-trace']).toBe('x');
  });

  it('resolves every hop through the checked lookup, at connect time', async () => {
    const b = await serve((_req, res) => res.end('from b'));
    const a = await serve((_req, res) =>
      res.writeHead(302, { Location: `http://b.example.test:${b.port}/` }).end(),
    );
    const dns = fakeDns({ 'a.example.test': ['127.0.0.1'], 'b.example.test': ['127.0.0.1'] });
    const dials = trackDials();
    const response = await outboundRequest(req(`http://a.example.test:${a.port}/`), privateOk(), {
      resolve: dns.resolve,
    });
    expect(response.body).toBe('from b');
    // One lookup per connection and no other: the answer checked is the answer connected to.
    expect(dns.calls).toEqual(['a.example.test', 'b.example.test']);
    // The dial tracker the refusal tests rely on does see real dials.
    expect(dials).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('refuses a redirect to a host that is not on the allowlist, without connecting to it', async () => {
    const internal = await serve((_req, res) => res.end('secret'));
    const first = await serve((_req, res) =>
      res.writeHead(302, { Location: `http://internal.corp.test:${internal.port}/` }).end(),
    );
    const dns = fakeDns({
      'api.example.test': ['127.0.0.1'],
      'internal.corp.test': ['127.0.0.1'],
    });
    const error = await failure(
      outboundRequest(req(`http://api.example.test:${first.port}/`), privateOk(), {
        resolve: dns.resolve,
      }),
    );
    expect(error).toMatchObject({ code: 'TOOL_HOST_NOT_ALLOWED', status: 422 });
    expect(error.message).toContain('"internal.corp.test"');
    expect(dns.calls).toEqual(['api.example.test']);
    expect(internal.connections()).toBe(0);
  });

  it('fails after maxRedirects redirects, 3 by default', async () => {
    const loop = await serve((_req, res) => res.writeHead(302, { Location: '/again' }).end());
    const error = await failure(
      outboundRequest(req(`http://127.0.0.1:${loop.port}/`, { maxRedirects: 1 }), privateOk()),
    );
    expect(error).toMatchObject({ code: 'TOOL_REQUEST_FAILED', status: 502 });
    expect(error.message).toMatch(/redirected more than 1 times/);
    expect(loop.requests).toHaveLength(2);

    await failure(outboundRequest(req(`http://127.0.0.1:${loop.port}/`), privateOk()));
    expect(loop.requests).toHaveLength(2 + 4);
  });

  it.each([
    ['file:///etc/passwd', /not http or https/],
    ['http://user:pass@127.0.0.1/', /contains credentials/],
    ['http://[not-an-address/', /invalid URL/],
  ])('refuses a redirect to %s', async (location, message) => {
    const { port } = await serve((_req, res) => res.writeHead(307, { Location: location }).end());
    const error = await failure(outboundRequest(req(`http://127.0.0.1:${port}/`), privateOk()));
    expect(error).toMatchObject({
      code: 'TOOL_REQUEST_FAILED',
      message: expect.stringMatching(message),
    });
  });
});

describe('outboundRequest: https', () => {
  // A self-signed certificate for secure.example.test, trusted only inside this test file's
  // process. Test-only key: it protects nothing.
  const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglMutruoDc4NXtUx4
5RCetFtaCEpkzthLRCEwOTWegE6hRANCAATaRoHgOQ2MH7bS8uVXL86rXeqwFpL4
9R4h0Vqi3Fi2yY4cg/Jm6OaCIN2IyI8trGCNf4msjnbHSiIw66+t6lNP
-----END PRIVATE KEY-----`;
  const CERT = `-----BEGIN CERTIFICATE-----
MIIBsDCCAVagAwIBAgIUSMovoNxyccQx4YLsGsdqxiUpnaEwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTc2VjdXJlLmV4YW1wbGUudGVzdDAgFw0yNjEyMDEwODU3NTFa
GA8yMTI2MTEwNzA4NTc1MVowHjEcMBoGA1UEAwwTc2VjdXJlLmV4YW1wbGUudGVz
dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNpGgeA5DYwfttLy5Vcvzqtd6rAW
kvj1HiHRWqLcWLbJjhyD8mbo5oIg3YjIjy2sYI1/iayOdsdKIjDrr63qU0+jcDBu
MB0GA1UdDgQWBBQ+39IlRctIdJ05Jt7y8KAU8bE1PzAfBgNVHSMEGDAWgBQ+39Il
RctIdJ05Jt7y8KAU8bE1PzAeBgNVHREEFzAVghNzZWN1cmUuZXhhbXBsZS50ZXN0
MAwGA1UdEwEB/wQCMAAwCgYIKoZIzj0EAwIDSAAwRQIhAIFwU17XsTpQc+mPsIFH
qzmxV6kKYC8Ri7ppqxwsyGxVAiARkuHg4vEezQRrOvESFFvW9d8R1CV3vk/RxjOd
F9aNYQ==
-----END CERTIFICATE-----`;
  const trusted = tls.getCACertificates('default');
  beforeAll(() => tls.setDefaultCACertificates([...trusted, CERT]));
  afterAll(() => tls.setDefaultCACertificates(trusted));

  const secureServe = (handler: Parameters<typeof serve>[0]) =>
    serve(handler, '127.0.0.1', (listener) => createTlsServer({ key: KEY, cert: CERT }, listener));
  const dns = () => fakeDns({ 'secure.example.test': ['127.0.0.1'] });

  it('calls an https server and verifies its certificate against the hostname', async () => {
    const { port } = await secureServe((_req, res) => res.end('over tls'));
    const response = await outboundRequest(
      req(`https://secure.example.test:${port}/`),
      privateOk(),
      { resolve: dns().resolve },
    );
    expect(response.body).toBe('over tls');
  });

  it('refuses a redirect from https to plain http, without connecting to it', async () => {
    const plain = await serve((_req, res) => res.end('in clear text'));
    const { port } = await secureServe((_req, res) =>
      res.writeHead(302, { Location: `http://127.0.0.1:${plain.port}/` }).end(),
    );
    const error = await failure(
      outboundRequest(
        req(`https://secure.example.test:${port}/`, {
          headers: { Authorization: 'Bearer s3cr3t' },
        }),
        privateOk(),
        { resolve: dns().resolve },
      ),
    );
    expect(error).toMatchObject({
      code: 'TOOL_REQUEST_FAILED',
      message: expect.stringContaining('from https to plain http'),
    });
    expect(plain.connections()).toBe(0);
  });

  it('fails on a certificate it does not trust', async () => {
    tls.setDefaultCACertificates(trusted);
    try {
      const { port } = await secureServe((_req, res) => res.end('unverified'));
      const error = await failure(
        outboundRequest(req(`https://secure.example.test:${port}/`), privateOk(), {
          resolve: dns().resolve,
        }),
      );
      expect(error).toMatchObject({
        code: 'TOOL_REQUEST_FAILED',
        message: expect.stringContaining('TLS'),
      });
    } finally {
      tls.setDefaultCACertificates([...trusted, CERT]);
    }
  });
});

describe('outboundRequest: addresses refused by policy (allowPrivateNetworks: false)', () => {
  it('refuses the IP literal 127.0.0.1 before connecting', async () => {
    const target = await serve((_req, res) => res.end('loopback'));
    const connect = spyOnConnect();
    const error = await failure(
      outboundRequest(req(`http://127.0.0.1:${target.port}/`), publicOnly(['127.0.0.1'])),
    );
    expect(error).toMatchObject({ code: 'TOOL_ADDRESS_REFUSED', status: 422 });
    expect(error.message).toMatch(/allow private networks/);
    expect(connect).not.toHaveBeenCalled();
    expect(target.connections()).toBe(0);
  });

  it('refuses localhost, which real DNS resolves to loopback', async () => {
    const target = await serve((_req, res) => res.end('loopback'));
    const dials = trackDials();
    const error = await failure(
      outboundRequest(req(`http://localhost:${target.port}/`), publicOnly(['localhost'])),
    );
    expect(error).toMatchObject({ code: 'TOOL_ADDRESS_REFUSED' });
    expect(error.message).toContain('"localhost" resolved to');
    // A socket exists, but the lookup never hands it an address to dial.
    expect(dials).toEqual([]);
    expect(target.connections()).toBe(0);
  });

  it('refuses the IPv6 literal [::1] before connecting', async () => {
    const target = await serve((_req, res) => res.end('loopback'), '::1');
    const connect = spyOnConnect();
    const error = await failure(
      outboundRequest(req(`http://[::1]:${target.port}/`), publicOnly(['::1'])),
    );
    expect(error).toMatchObject({ code: 'TOOL_ADDRESS_REFUSED' });
    expect(connect).not.toHaveBeenCalled();
    expect(target.connections()).toBe(0);
  });

  it.each(['169.254.169.254', '[::ffff:169.254.169.254]', '[fd00:ec2::254]', '10.0.0.1'])(
    'refuses the metadata/private address %s before any socket is opened',
    async (host) => {
      const connect = spyOnConnect();
      const started = Date.now();
      const error = await failure(
        outboundRequest(req(`http://${host}/latest/meta-data/`), publicOnly(['*.never', host])),
      );
      expect(error).toMatchObject({ code: 'TOOL_ADDRESS_REFUSED' });
      expect(connect).not.toHaveBeenCalled();
      expect(Date.now() - started).toBeLessThan(500);
    },
  );

  it('refuses a hostname whose DNS answer is loopback, after resolving and before connecting', async () => {
    const target = await serve((_req, res) => res.end('internal'));
    const dns = fakeDns({ 'api.example.test': ['127.0.0.1'] });
    const dials = trackDials();
    const error = await failure(
      outboundRequest(
        req(`http://api.example.test:${target.port}/`),
        publicOnly(['api.example.test']),
        { resolve: dns.resolve },
      ),
    );
    expect(error).toMatchObject({ code: 'TOOL_ADDRESS_REFUSED' });
    // The resolved address stays out of the message: it would map internal DNS for a tenant.
    expect(error.message).not.toContain('127.0.0.1');
    expect(dns.calls).toEqual(['api.example.test']);
    expect(dials).toEqual([]);
    expect(target.connections()).toBe(0);
  });

  it('refuses an answer that mixes public and private addresses, dialling neither', async () => {
    const dns = fakeDns({ 'mixed.example.test': ['8.8.8.8', '::ffff:127.0.0.1'] });
    const dials = trackDials();
    const error = await failure(
      outboundRequest(req('http://mixed.example.test/'), publicOnly(['*.example.test']), {
        resolve: dns.resolve,
      }),
    );
    expect(error).toMatchObject({ code: 'TOOL_ADDRESS_REFUSED' });
    expect(dials).toEqual([]);
  });

  it('never reuses a socket opened under another policy: each request connects afresh', async () => {
    const target = await serve((_req, res) => res.end('ok'));
    const dns = fakeDns({ 'api.example.test': ['127.0.0.1'] });
    const url = `http://api.example.test:${target.port}/`;
    await outboundRequest(req(url), privateOk(), { resolve: dns.resolve });
    // A pooled keep-alive socket would skip the lookup and its check here.
    const error = await failure(
      outboundRequest(req(url), publicOnly(['api.example.test']), { resolve: dns.resolve }),
    );
    expect(error).toMatchObject({ code: 'TOOL_ADDRESS_REFUSED' });
    expect(target.connections()).toBe(1);
  });

  it('refuses a host that is not on the allowlist, before resolving it', async () => {
    const dns = fakeDns({ 'api.example.test': ['8.8.8.8'] });
    const error = await failure(
      outboundRequest(req('https://api.example.test/'), publicOnly(['other.example.test']), {
        resolve: dns.resolve,
      }),
    );
    expect(error).toMatchObject({ code: 'TOOL_HOST_NOT_ALLOWED' });
    expect(dns.calls).toEqual([]);
  });
});

describe('outboundRequest: limits', () => {
  /** Streams `total` bytes until the client hangs up; resolves with how many it got to send. */
  function firehose(total: number) {
    let sent: (bytes: number) => void;
    const stopped = new Promise<number>((resolve) => (sent = resolve));
    const handler = (_req: IncomingMessage, res: ServerResponse) => {
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let bytes = 0;
      res.on('close', () => sent(bytes));
      const pump = () => {
        while (!res.destroyed && bytes < total) {
          bytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    };
    return { handler, stopped };
  }

  it('stops reading past maxResponseBytes and closes the connection', async () => {
    const total = 64 * 1024 * 1024;
    const hose = firehose(total);
    const { port } = await serve(hose.handler);
    const error = await failure(
      outboundRequest(req(`http://127.0.0.1:${port}/`, { maxResponseBytes: 1_000 }), privateOk()),
    );
    expect(error).toMatchObject({ code: 'TOOL_RESPONSE_TOO_LARGE', status: 502 });
    // The server saw its connection close long before it could send everything.
    expect(await hose.stopped).toBeLessThan(total);
  });

  it('refuses a declared Content-Length over the limit without reading the body', async () => {
    const { port } = await serve((_req, res) =>
      res.writeHead(200, { 'Content-Length': 5000 }).end('x'.repeat(5000)),
    );
    const error = await failure(
      outboundRequest(req(`http://127.0.0.1:${port}/`, { maxResponseBytes: 4999 }), privateOk()),
    );
    expect(error).toMatchObject({ code: 'TOOL_RESPONSE_TOO_LARGE' });
  });

  it('accepts a body of exactly maxResponseBytes', async () => {
    const { port } = await serve((_req, res) => res.end('x'.repeat(1000)));
    const response = await outboundRequest(
      req(`http://127.0.0.1:${port}/`, { maxResponseBytes: 1000 }),
      privateOk(),
    );
    expect(response.body).toHaveLength(1000);
  });

  it('times out a server that never answers, within about timeoutMs, and hangs up', async () => {
    let closed!: () => void;
    const hungUp = new Promise<void>((resolve) => (closed = resolve));
    const { port } = await serve((req) => req.socket.on('close', closed));
    const started = Date.now();
    const error = await failure(
      outboundRequest(req(`http://127.0.0.1:${port}/`, { timeoutMs: 300 }), privateOk()),
    );
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ code: 'TOOL_TIMEOUT', status: 504 });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    await hungUp;
  });

  it('bounds the whole exchange, redirects included, not each hop', async () => {
    // Each hop takes 150 ms, well under the 400 ms budget; three of them do not fit.
    const slow = await serve((req, res) =>
      setTimeout(() => {
        if (req.url === '/3') return res.end('late');
        res.writeHead(302, { Location: `/${Number(req.url!.slice(1)) + 1}` }).end();
      }, 150),
    );
    const error = await failure(
      outboundRequest(req(`http://127.0.0.1:${slow.port}/1`, { timeoutMs: 400 }), privateOk()),
    );
    expect(error).toMatchObject({ code: 'TOOL_TIMEOUT' });
  });

  it('rejects with the signal reason when the caller aborts mid-call', async () => {
    const { port } = await serve(() => undefined);
    const controller = new AbortController();
    const reason = new Error('the user hung up');
    setTimeout(() => controller.abort(reason), 50);
    const error = await failure(
      outboundRequest(req(`http://127.0.0.1:${port}/`, { signal: controller.signal }), privateOk()),
    );
    expect(error).toBe(reason);
  });

  it('makes no connection when the signal is already aborted', async () => {
    const connect = spyOnConnect();
    const error = await failure(
      outboundRequest(req('http://127.0.0.1:9/', { signal: AbortSignal.abort() }), privateOk()),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(connect).not.toHaveBeenCalled();
  });
});

describe('outboundRequest: malformed requests and failures', () => {
  it.each([
    ['http://alice:s3cr3t@127.0.0.1/', /credentials/],
    ['http://s3cr3t@127.0.0.1/', /credentials/],
    ['ftp://127.0.0.1/', /http:\/\/ or https:\/\//],
    ['file:///etc/passwd', /http:\/\/ or https:\/\//],
    ['/relative', /valid absolute URL/],
  ])('refuses %s without connecting', async (url, message) => {
    const connect = spyOnConnect();
    const error = await failure(outboundRequest(req(url), privateOk()));
    expect(error).toMatchObject({ code: 'TOOL_REQUEST_INVALID', status: 422 });
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('s3cr3t');
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses CONNECT and TRACE', async () => {
    for (const method of ['CONNECT', 'TRACE']) {
      const error = await failure(
        outboundRequest(req('http://127.0.0.1/', { method }), privateOk()),
      );
      expect(error).toMatchObject({ code: 'TOOL_REQUEST_INVALID' });
    }
  });

  it('reports a header with forbidden characters without echoing its value', async () => {
    const error = await failure(
      outboundRequest(
        req('http://127.0.0.1:9/', { headers: { 'X-Api-Key': 's3cr3t\r\nX-Injected: 1' } }),
        privateOk(),
      ),
    );
    expect(error).toMatchObject({ code: 'TOOL_REQUEST_INVALID' });
    expect(error.message).not.toContain('s3cr3t');
  });

  it('reports a refused connection naming the host only, not the path, query or headers', async () => {
    const gone = await serve(() => undefined);
    gone.server.close();
    await new Promise((resolve) => gone.server.once('close', resolve));
    const error = await failure(
      outboundRequest(
        req(`http://127.0.0.1:${gone.port}/claims/42?api_key=s3cr3t`, {
          headers: { Authorization: 'Bearer s3cr3t' },
        }),
        privateOk(),
      ),
    );
    expect(error).toMatchObject({ code: 'TOOL_REQUEST_FAILED', status: 502 });
    expect(error.message).toBe(
      `The tool's HTTP call to "127.0.0.1" failed: the connection was refused.`,
    );
  });

  it('reports a host name that does not resolve', async () => {
    const dns = fakeDns({});
    const error = await failure(
      outboundRequest(req('http://nowhere.example.test/'), privateOk(), { resolve: dns.resolve }),
    );
    expect(error).toMatchObject({
      code: 'TOOL_REQUEST_FAILED',
      message: expect.stringContaining('could not be resolved'),
    });
  });
});

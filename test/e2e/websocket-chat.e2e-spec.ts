import { randomBytes } from 'node:crypto';
import { createConnection, type Socket as TcpSocket } from 'node:net';
import { DataSource } from 'typeorm';
import { WebSocket } from 'ws';
import { FakeLlm } from '../support/fake-llm';
import { sign } from 'jsonwebtoken';
import {
  createApiKey,
  createTenant,
  createUser,
  streamUnchecked,
  type TestTenant,
} from '../support/identity';
import { createTestApp, TEST_JWT_KEY, type TestApp } from '../support/test-app';

const REPLY = 'Your parcel left the depot this morning and arrives tomorrow.';

interface Frame {
  event: string;
  data: Record<string, any>;
}

/** A WebSocket client that collects frames and can wait for one. */
class Socket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  /** The server's `ready` frame, kept apart from the frames of turns. */
  ready?: Frame;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw));
      if (frame.event === 'ready') this.ready = frame;
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    // Ready, not merely open: frames sent before the server's `ready` are dropped.
    this.opened = new Promise((resolve, reject) => {
      ws.on('message', (raw) => {
        if (JSON.parse(String(raw)).event === 'ready') resolve();
      });
      ws.on('error', reject);
    });
  }

  send(event: string, data: unknown): void {
    this.ws.send(JSON.stringify({ event, data }));
  }

  /** Waits until `count` frames of an event have arrived (a turn takes as long as it takes). */
  async waitForCount(event: string, count: number, timeoutMs = 10_000): Promise<Frame[]> {
    const started = Date.now();
    for (;;) {
      const frames = this.frames.filter((f) => f.event === event);
      if (frames.length >= count) return frames;
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `${frames.length} of ${count} ${event}; got ${this.frames.map((f) => f.event).join(',')}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async waitFor(event: string, timeoutMs = 5000): Promise<Frame> {
    const started = Date.now();
    for (;;) {
      const frame = this.frames.find((f) => f.event === event);
      if (frame) return frame;
      if (Date.now() - started > timeoutMs)
        throw new Error(`no ${event}; got ${this.frames.map((f) => f.event).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('chat over WebSocket (/v1/ws)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let tenant: TestTenant;
  let url: string;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: REPLY });
    t = await createTestApp({
      env: {
        LLM_BASE_URL: fake.url,
        LLM_MODEL: 'fake-model',
        CORS_ORIGINS: 'https://app.example.com',
      },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}/v1/ws`;
    tenant = await createTenant(t.app);
    await streamUnchecked(tenant);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const connect = (headers: Record<string, string> = {}, protocols?: string[]) =>
    new Socket(new WebSocket(url, protocols, { headers }));
  const bearer = () => ({ authorization: `Bearer ${tenant.admin.client.credential}` });

  it('sends tool.call and tool.approval_required when an answer waits for a person', async () => {
    await tenant.admin.client.put('/v1/admin/tool-settings', { allowedHosts: ['api.example.com'] });
    const tool = await tenant.admin.client.post('/v1/admin/tools', {
      name: 'ws_refund',
      description: 'Pays a refund.',
      parameters: { type: 'object', properties: { amount: { type: 'number' } } },
      http: { method: 'POST', url: 'https://api.example.com/refunds' },
      risk: 'high',
    });
    expect(tool.status).toBe(201);
    const conversation = (
      await tenant.admin.client.post('/v1/conversations', { tools: ['ws_refund'] })
    ).body;
    fake.toolCallsNext([{ name: 'ws_refund', arguments: { amount: 5 } }]);
    const socket = connect(bearer());
    await socket.opened;
    socket.send('chat.send', {
      conversationId: conversation.id,
      content: 'Refund 5.',
      requestId: 'r9',
    });
    const done = await socket.waitFor('chat.done');
    socket.ws.close();
    expect(socket.frames.map((f) => f.event)).toEqual([
      'tool.call',
      'tool.approval_required',
      'chat.done',
    ]);
    expect(socket.frames[1]!.data).toMatchObject({
      requestId: 'r9',
      name: 'ws_refund',
      arguments: '{"amount":5}',
      messageId: done.data.assistantMessage.id,
    });
    expect(done.data.assistantMessage.status).toBe('awaiting_approval');
  });

  it('streams chat.start, chat.delta… and chat.done in order, and stores the turn', async () => {
    const conversation = (await tenant.admin.client.post('/v1/conversations', {})).body;
    const socket = connect(bearer());
    await socket.opened;
    socket.send('chat.send', {
      conversationId: conversation.id,
      content: 'Where is my parcel?',
      requestId: 'r1',
    });
    const done = await socket.waitFor('chat.done');
    socket.ws.close();
    const events = socket.frames.map((f) => f.event);
    expect(events[0]).toBe('chat.start');
    expect(events.at(-1)).toBe('chat.done');
    expect(events.slice(1, -1).every((e) => e === 'chat.delta')).toBe(true);
    expect(socket.frames.every((f) => f.data.requestId === 'r1')).toBe(true);
    const text = socket.frames
      .filter((f) => f.event === 'chat.delta')
      .map((f) => f.data.text)
      .join('');
    expect(text).toBe(REPLY);
    expect(done.data.assistantMessage).toMatchObject({ content: REPLY, status: 'complete' });
    const stored = await tenant.admin.client.get(`/v1/conversations/${conversation.id}/messages`);
    expect(stored.body.items).toHaveLength(2);
  });

  it('authenticates browsers through the subprotocol list, from an allowed origin', async () => {
    const socket = connect({ origin: 'https://app.example.com' }, [
      'parley.bearer',
      tenant.admin.client.credential!,
    ]);
    await socket.opened;
    expect(socket.ws.protocol).toBe('parley.bearer');
    const conversation = (await tenant.admin.client.post('/v1/conversations', {})).body;
    socket.send('chat.send', { conversationId: conversation.id, content: 'hi' });
    await socket.waitFor('chat.done');
    socket.ws.close();
  });

  it('closes unauthenticated, wrongly-scoped and foreign-origin connections with 4401/4403', async () => {
    const anonymous = connect();
    expect((await anonymous.closed).code).toBe(4401);
    const urlToken = new Socket(
      new WebSocket(`${url}?access_token=${tenant.admin.client.credential}`),
    );
    expect((await urlToken.closed).code).toBe(4401);
    const { key } = await createApiKey(tenant.admin.client, ['audio']);
    expect((await connect({ authorization: `Bearer ${key}` }).closed).code).toBe(4403);
    expect((await connect({ ...bearer(), origin: 'https://evil.example.com' }).closed).code).toBe(
      4403,
    );
  });

  /** The statuses of a conversation's messages, once both of the turn are stored. */
  const storedStatuses = async (conversationId: string) => {
    let stored: { status: string }[] = [];
    for (let i = 0; i < 30 && stored.length < 2; i++) {
      stored = (await tenant.admin.client.get(`/v1/conversations/${conversationId}/messages`)).body
        .items;
      if (stored.length < 2) await new Promise((r) => setTimeout(r, 100));
    }
    return stored.map((m) => m.status);
  };

  it('cancels a generation on `cancel`: the upstream call is aborted and the turn stored as aborted', async () => {
    fake.configure({ tokenDelayMs: 150 });
    const conversation = (await tenant.admin.client.post('/v1/conversations', {})).body;
    const socket = connect(bearer());
    await socket.opened;
    socket.send('chat.send', {
      conversationId: conversation.id,
      content: 'Long answer please',
      requestId: 'long',
    });
    await socket.waitFor('chat.delta');
    socket.send('cancel', { requestId: 'long' });
    await fake.waitForClientAbort();
    const cancelled = await socket.waitFor('chat.cancelled');
    expect(cancelled.data.requestId).toBe('long');
    expect(socket.frames.some((f) => f.event === 'chat.error')).toBe(false);
    socket.ws.close();
    expect(await storedStatuses(conversation.id)).toEqual(['complete', 'aborted']);
  });

  it('stops generating when the socket drops mid-stream, stores the turn as aborted and settles it', async () => {
    fake.configure({ tokenDelayMs: 150 });
    const conversation = (await tenant.admin.client.post('/v1/conversations', {})).body;
    const socket = connect(bearer());
    await socket.opened;
    socket.send('chat.send', {
      conversationId: conversation.id,
      content: 'Another long answer please',
      requestId: 'dropped',
    });
    await socket.waitFor('chat.delta');
    socket.ws.terminate(); // no close handshake: the connection is simply gone
    await fake.waitForClientAbort();
    expect(await storedStatuses(conversation.id)).toEqual(['complete', 'aborted']);
    const db = t.app.get(DataSource);
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM cost_reservations WHERE tenant_id = $1 AND status = 'held'`,
      [tenant.id],
    );
    expect(n).toBe(0);
  });

  it('answers bad messages and unknown conversations with chat.error, keeping the socket open', async () => {
    const socket = connect(bearer());
    await socket.opened;
    socket.send('chat.send', { content: '' });
    const invalid = await socket.waitFor('chat.error');
    expect(invalid.data.error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(invalid.data.error.errors.map((e: { field: string }) => e.field)).toEqual([
      'conversationId',
      'content',
    ]);
    socket.frames.length = 0;
    const other = await createTenant(t.app);
    const foreign = (await other.admin.client.post('/v1/conversations', {})).body;
    socket.send('chat.send', { conversationId: foreign.id, content: 'peek' });
    expect((await socket.waitFor('chat.error')).data.error.code).toBe('NOT_FOUND');
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close();
  });

  describe('an open socket follows its caller after the handshake', () => {
    const conversationOf = async (client: TestTenant['admin']['client']) =>
      (await client.post('/v1/conversations', {})).body.id as string;

    it('drops frames sent before `ready`, saying so once', async () => {
      const conversationId = await conversationOf(tenant.admin.client);
      // The frames go out in the same TCP write as the upgrade request, so they are in the
      // server's buffer before the credential check (a database read) can have finished.
      const early = [
        { event: 'chat.send', data: { conversationId, content: 'too early', requestId: 'early' } },
        {
          event: 'chat.send',
          data: { conversationId, content: 'too early', requestId: 'early-2' },
        },
      ];
      const raw = await RawSocket.open(url, bearer(), early);
      await raw.waitFor((f) => f.event === 'ready');
      const told = await raw.waitFor((f) => f.event === 'chat.error');
      expect(told.data.error.code).toBe('NOT_READY');
      raw.send({
        event: 'chat.send',
        data: { conversationId, content: 'now', requestId: 'on-time' },
      });
      await raw.waitFor((f) => f.event === 'chat.done');
      expect(raw.frames.filter((f) => f.event === 'chat.error')).toHaveLength(1);
      expect(
        raw.frames.filter((f) => f.event === 'chat.start').map((f) => f.data.requestId),
      ).toEqual(['on-time']);
      raw.close();
    });

    it('closes with 4401 on the next message once its API key is revoked', async () => {
      const { id, key } = await createApiKey(tenant.admin.client, ['chat']);
      const socket = connect({ authorization: `Bearer ${key}` });
      await socket.opened;
      expect((await tenant.admin.client.delete(`/v1/api-keys/${id}`)).status).toBe(204);
      socket.send('chat.send', {
        conversationId: await conversationOf(tenant.admin.client),
        content: 'still there?',
      });
      expect((await socket.closed).code).toBe(4401);
      expect(socket.frames.some((f) => f.event === 'chat.start')).toBe(false);
    });

    it('closes with 4401 on the next message once its user is disabled', async () => {
      const member = await createUser(tenant);
      const conversationId = await conversationOf(member.client);
      const socket = connect({ authorization: `Bearer ${member.client.credential}` });
      await socket.opened;
      const res = await tenant.admin.client.patch(`/v1/admin/users/${member.id}`, {
        disabled: true,
      });
      expect(res.status).toBe(200);
      socket.send('chat.send', { conversationId, content: 'am I still in?' });
      expect((await socket.closed).code).toBe(4401);
    });

    it('closes with 4401 when its access token expires, saying why', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = sign(
        {
          sub: tenant.admin.id,
          tid: tenant.id,
          iss: 'parley',
          aud: 'parley-api',
          jti: 'ws-expiry',
          iat: now,
          iat_ms: Date.now(),
          exp: now + 4, // long enough for a handshake on a busy machine
        },
        TEST_JWT_KEY.secret,
        { algorithm: 'HS256', keyid: TEST_JWT_KEY.kid },
      );
      const socket = connect({ authorization: `Bearer ${token}` });
      await socket.opened;
      expect(Date.parse(socket.ready!.data.expiresAt)).toBe((now + 4) * 1000);
      const closed = await socket.closed;
      expect(closed).toEqual({ code: 4401, reason: expect.stringMatching(/expired/) });
    });

    it('refuses a frame over 64 KiB by closing with 1009', async () => {
      const socket = connect(bearer());
      await socket.opened;
      socket.ws.send('x'.repeat(65 * 1024));
      expect((await socket.closed).code).toBe(1009);
    });
  });
});

describe('rate limits over WebSocket', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: REPLY });
    t = await createTestApp({
      env: { LLM_BASE_URL: fake.url, LLM_MODEL: 'fake-model', RATE_LIMIT_CHAT: '3/60' },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it('counts chat.send against the same chat limit as the HTTP routes', async () => {
    const tenant = await createTenant(t.app);
    const { key } = await createApiKey(tenant.admin.client, ['chat']);
    const http = await t.app.inject({
      method: 'POST',
      url: '/v1/conversations',
      headers: { authorization: `Bearer ${key}` },
      payload: {},
    });
    expect(http.statusCode).toBe(201); // 1 of 3
    const conversationId = http.json().id;
    const port = (t.app.getHttpServer().address() as { port: number }).port;
    const socket = new Socket(
      new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, {
        headers: { authorization: `Bearer ${key}` },
      }),
    );
    await socket.opened;
    for (const requestId of ['r1', 'r2', 'r3'])
      socket.send('chat.send', { conversationId, content: 'Where is my parcel?', requestId });
    const error = await socket.waitFor('chat.error');
    expect(error.data.error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(error.data.error.retryAfterSeconds).toBeGreaterThan(0);
    // Two turns ran (2 and 3 of 3); the third message was refused without reaching the model.
    expect(await socket.waitForCount('chat.done', 2)).toHaveLength(2);
    expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(2);
    socket.ws.close();
  });
});

/**
 * A WebSocket client on a bare TCP socket, which can send frames in the same write as its
 * upgrade request (a library client sends only once the upgrade is answered).
 */
class RawSocket {
  readonly frames: Frame[] = [];
  private buffer = Buffer.alloc(0);
  private upgraded = false;

  private constructor(private readonly socket: TcpSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      if (!this.upgraded) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.upgraded = true;
        this.buffer = this.buffer.subarray(end + 4);
      }
      this.read();
    });
  }

  static async open(url: string, headers: Record<string, string>, early: unknown[]) {
    const { hostname, port, pathname } = new URL(url);
    const socket = createConnection({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) =>
      socket.once('connect', resolve).once('error', reject),
    );
    const raw = new RawSocket(socket);
    const request = [
      `GET ${pathname} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    socket.write(Buffer.concat([Buffer.from(request), ...early.map((m) => maskedFrame(m))]));
    return raw;
  }

  send(message: unknown): void {
    this.socket.write(maskedFrame(message));
  }

  async waitFor(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const started = Date.now();
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() - started > timeoutMs)
        throw new Error(`not received; got ${this.frames.map((f) => f.event).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  /** Unmasked text frames from the server (the only kind this server sends here). */
  private read(): void {
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const opcode = this.buffer[0]! & 0x0f;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 1) this.frames.push(JSON.parse(payload.toString('utf8')) as Frame);
    }
  }
}

/** A client text frame, masked as RFC 6455 requires. */
function maskedFrame(message: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(message));
  const header =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

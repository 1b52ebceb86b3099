/**
 * A real OpenAI-compatible HTTP server on loopback, so tests and benchmarks exercise the real
 * client, sockets, streaming and timeouts instead of a mocked SDK.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  chatCompletions,
  embeddings,
  models,
  moderations,
  speech,
  transcriptions,
  type Endpoint,
  type EndpointContext,
} from './fake-llm.endpoints';
import { readBody, sendJson } from './fake-llm.http';
import { boundaryOf, parseMultipart } from './fake-llm.multipart';
import { errorBody, faultErrorBody } from './fake-llm.responses';
import {
  DEFAULT_OPTIONS,
  mergeOptions,
  ScriptQueue,
  type Fault,
  type FakeLlmOptions,
  type RecordedRequest,
  type ResolvedOptions,
  type ScriptedToolCall,
} from './fake-llm.scenarios';

const ROUTES: Record<string, Endpoint> = {
  'POST /v1/chat/completions': chatCompletions,
  'POST /v1/embeddings': embeddings,
  'POST /v1/moderations': moderations,
  'POST /v1/audio/speech': speech,
  'POST /v1/audio/transcriptions': transcriptions,
  'GET /v1/models': models,
};

const POLL_MS = 10;

type ParsedBody = { ok: true; body: any } | { ok: false; body: string };

export class FakeLlm {
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  private options: ResolvedOptions;
  private readonly faults = new ScriptQueue<Fault>();
  private readonly replies = new ScriptQueue<string>();
  private readonly toolCalls = new ScriptQueue<ScriptedToolCall[]>();
  private readonly seenModels = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<AbortController>();
  private seq = 0;
  private closing?: Promise<void>;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly startOptions: ResolvedOptions,
  ) {
    this.url = `http://127.0.0.1:${port}/v1`;
    this.options = startOptions;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => {
        // A bug in the fake should fail the test's request, not crash the Jest worker.
        if (!res.headersSent) sendJson(res, 500, errorBody('fake-llm crashed', 'server_error'));
        else res.destroy();
      });
    });
  }

  /** Listens on 127.0.0.1 on a free port. */
  static async start(options: FakeLlmOptions = {}): Promise<FakeLlm> {
    const resolved = mergeOptions(DEFAULT_OPTIONS, options);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as { port: number };
    return new FakeLlm(server, port, resolved);
  }

  configure(options: Partial<FakeLlmOptions>): void {
    this.options = mergeOptions(this.options, options);
  }

  /** Queues faults: each next request to `model` (or to any model) consumes one, in order. */
  failNext(fault: Fault, opts: { times?: number; model?: string } = {}): void {
    this.faults.push(fault, opts);
  }

  /** Scripts the reply text of the next request(s) to `model` (or to any model). */
  replyNext(text: string, opts: { model?: string; times?: number } = {}): void {
    this.replies.push(text, opts);
  }

  /**
   * Scripts the next chat reply(ies) to `model` (or any model) as tool calls instead of text:
   * finish_reason `tool_calls`, and in a stream each call's arguments arrive in two pieces.
   */
  toolCallsNext(calls: ScriptedToolCall[], opts: { model?: string; times?: number } = {}): void {
    this.toolCalls.push(calls, opts);
  }

  async waitForRequest(
    pred: (r: RecordedRequest) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<RecordedRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.requests.find(pred);
      if (hit) return hit;
      if (Date.now() >= deadline) {
        throw new Error(
          `FakeLlm: no matching request within ${timeoutMs} ms (${this.requests.length} recorded)`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  waitForClientAbort(timeoutMs = 5000): Promise<RecordedRequest> {
    return this.waitForRequest((r) => r.clientAborted, timeoutMs);
  }

  /** Clears faults, scripted replies, records and seen models; restores the start() options. */
  reset(): void {
    this.faults.clear();
    this.replies.clear();
    this.toolCalls.clear();
    this.requests.length = 0;
    this.seenModels.clear();
    this.options = this.startOptions;
  }

  /** Closes the server and destroys open sockets, so hanging requests end too. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const request of this.inFlight) request.abort();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const seq = ++this.seq;
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    const record: RecordedRequest = {
      method,
      path,
      headers: { ...req.headers },
      body: undefined,
      receivedAt: Date.now(),
      clientAborted: false,
    };
    let recorded = false;
    const remember = () => {
      if (!recorded) this.requests.push(record);
      recorded = true;
    };
    const abandoned = new AbortController();
    this.inFlight.add(abandoned);
    let droppedByUs = false;

    res.setHeader('x-request-id', `req_fake_${seq}`);
    res.on('finish', () => (record.finishedAt = Date.now()));
    res.on('close', () => {
      this.inFlight.delete(abandoned);
      // Closed before the response was complete, and not by a fault or close(): the client left.
      if (!res.writableFinished && !droppedByUs && !this.closing) {
        record.clientAborted = true;
        remember();
      }
      abandoned.abort();
    });

    const raw = await readBody(req);
    if (raw === null) return; // the client left mid-body; the close handler recorded it
    const parsed = parseBody(raw, req.headers['content-type']);
    record.body = parsed.body;
    remember();

    if (!/^Bearer\s+\S/i.test(req.headers.authorization ?? '')) {
      return sendJson(
        res,
        401,
        errorBody(
          "You didn't provide an API key. Use Authorization: Bearer <key>.",
          'invalid_request_error',
          'invalid_api_key',
        ),
      );
    }
    const endpoint = ROUTES[`${method} ${path}`];
    if (!endpoint) {
      return sendJson(
        res,
        404,
        errorBody(
          `Unknown request URL: ${method} ${path}.`,
          'invalid_request_error',
          'unknown_url',
        ),
      );
    }
    if (!parsed.ok) {
      return sendJson(
        res,
        400,
        errorBody('Could not parse the JSON body.', 'invalid_request_error'),
      );
    }

    const model = modelOf(parsed.body);
    if (model !== undefined) this.seenModels.add(model);
    const drop = () => {
      droppedByUs = true;
      req.socket.destroy();
    };

    let dropAfterChunks: number | undefined;
    let stallAfterChunks: number | undefined;
    const fault = method === 'POST' ? this.faults.take(model) : undefined;
    if (fault?.kind === 'status') {
      const headers =
        fault.retryAfterSeconds === undefined
          ? {}
          : { 'retry-after': String(fault.retryAfterSeconds) };
      return sendJson(res, fault.status, fault.body ?? faultErrorBody(fault.status), headers);
    }
    if (fault?.kind === 'hang') return; // keep the socket open, answer nothing
    if (fault?.kind === 'drop-mid-stream') {
      const streaming = endpoint === chatCompletions && parsed.body?.stream === true;
      if (!streaming) return drop();
      dropAfterChunks = fault.afterChunks;
    }
    if (fault?.kind === 'stall-mid-stream') {
      const streaming = endpoint === chatCompletions && parsed.body?.stream === true;
      if (!streaming) return; // nothing at all, like a hang
      stallAfterChunks = fault.afterChunks;
    }

    const ctx: EndpointContext = {
      req,
      res,
      body: parsed.body,
      options: this.options,
      signal: abandoned.signal,
      seq,
      dropAfterChunks,
      stallAfterChunks,
      drop,
      takeReply: (m) => this.replies.take(m),
      takeToolCalls: (m) => this.toolCalls.take(m),
      seenModels: () => [...this.seenModels],
    };
    await endpoint(ctx);
  }
}

function parseBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  const boundary = /^multipart\/form-data/i.test(contentType ?? '')
    ? boundaryOf(contentType)
    : undefined;
  if (boundary) return { ok: true, body: parseMultipart(raw, boundary) };
  if (raw.length === 0) return { ok: true, body: undefined };
  const text = raw.toString('utf8');
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false, body: text };
  }
}

/** The model a request names: a JSON field, or a multipart field for audio uploads. */
function modelOf(body: any): string | undefined {
  const model = body?.model ?? body?.fields?.model;
  return typeof model === 'string' ? model : undefined;
}

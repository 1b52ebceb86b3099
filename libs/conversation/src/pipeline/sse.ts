import type { FastifyReply } from 'fastify';

/**
 * A Server-Sent Events response on Fastify's raw socket: `event: <name>` + `data: <json>`.
 * Headers the app set on the reply so far (request id, CORS, security) are kept.
 */
export class SseStream {
  private closed = false;

  constructor(private readonly reply: FastifyReply) {
    reply.hijack();
    reply.raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Tell nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    reply.raw.on('close', () => (this.closed = true));
  }

  /** A named event with a JSON payload. */
  send(event: string, data: unknown): void {
    if (this.closed) return;
    this.reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** An unnamed event carrying `text` as it is (OpenAI-style streams). */
  data(text: string): void {
    if (this.closed) return;
    this.reply.raw.write(`data: ${text}\n\n`);
  }

  end(): void {
    if (!this.closed) this.reply.raw.end();
    this.closed = true;
  }
}

/** Aborts when the client goes away before the response has been sent in full. */
export function abortOnDisconnect(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}

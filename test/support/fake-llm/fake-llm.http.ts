/** Small node:http helpers that stop quietly once the client is gone. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** The whole request body, or null when the client went away before sending it all. */
export async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return null;
  }
  return Buffer.concat(chunks);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  sendBytes(res, status, Buffer.from(JSON.stringify(body)), 'application/json', headers);
}

export function sendBytes(
  res: ServerResponse,
  status: number,
  bytes: Buffer,
  contentType: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': bytes.length,
  });
  res.end(bytes);
}

/** Waits, or returns false early when the request is abandoned (client gone, server closing). */
export async function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes and waits until the bytes are handed to the socket, so a later socket.destroy() (the
 * drop-mid-stream fault) cannot discard chunks the test expects the client to have seen, and a
 * slow reader applies backpressure. Resolves false when the response can no longer be written.
 */
export function write(res: ServerResponse, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve(false);
    const onClose = () => resolve(false);
    res.once('close', onClose);
    res.write(text, (err) => {
      res.off('close', onClose);
      resolve(!err);
    });
  });
}

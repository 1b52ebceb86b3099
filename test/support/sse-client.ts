import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Starts a streamed (SSE) POST against the app over real HTTP, so a test can cut the
 * connection mid-stream, and reads until the first `marker` (e.g. `event: delta`).
 */
export async function openEventStream(
  app: NestFastifyApplication,
  path: string,
  credential: string,
  body: unknown,
  signal: AbortSignal,
): Promise<{ readUntil(marker: string): Promise<string> }> {
  await app.listen({ port: 0, host: '127.0.0.1' }).catch(() => undefined);
  const port = (app.getHttpServer().address() as { port: number }).port;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${credential}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
    },
    body: JSON.stringify(body),
    signal,
  });
  const reader = res.body!.getReader();
  let seen = '';
  return {
    async readUntil(marker: string) {
      while (!seen.includes(marker)) seen += new TextDecoder().decode((await reader.read()).value);
      return seen;
    },
  };
}

/** The events of a finished SSE body, in order (`data` parsed as JSON when there is any). */
export function readSse(body: string): { event: string; data: any }[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return { event, data: data ? JSON.parse(data) : undefined };
    });
}

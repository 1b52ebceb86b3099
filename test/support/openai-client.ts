import OpenAI from 'openai';
import type { TestApp } from './test-app';

/**
 * Makes the test app listen on a loopback port and returns the official `openai` client pointed
 * at it with `apiKey`, as an existing OpenAI-based tool would be configured.
 */
export async function openAiClientFor(t: TestApp, apiKey: string): Promise<OpenAI> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (t.app.getHttpServer().address() as { port: number }).port;
  return new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0 });
}

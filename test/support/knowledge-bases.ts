import type { Client } from './identity';

/** The environment that points an app at the fake upstream (chat and, optionally, embeddings). */
export const fakeLlmEnv = (url: string, extra: Record<string, string> = {}) => ({
  LLM_BASE_URL: url,
  LLM_MODEL: 'fake-model',
  LLM_API_KEY: 'sk-test',
  ...extra,
});

/** A knowledge base with a fresh name; returns its id and version. */
export async function createKnowledgeBase(
  client: Client,
  body: Record<string, unknown> = {},
): Promise<{ id: string; version: number }> {
  const res = await client.post('/v1/knowledge-bases', {
    name: `kb-${Math.random().toString(36).slice(2, 8)}`,
    ...body,
  });
  if (res.status !== 201) throw new Error(`knowledge base not created: ${res.raw}`);
  return res.body;
}

/** Polls a document until ingestion has finished (ready or failed) and returns it. */
export async function waitForDocument(
  client: Client,
  knowledgeBaseId: string,
  documentId: string,
  timeoutMs = 20_000,
): Promise<{ id: string; status: string; error: string | null; chunkCount: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await client.get(`/v1/knowledge-bases/${knowledgeBaseId}/documents/${documentId}`);
    if (res.body.status === 'ready' || res.body.status === 'failed') return res.body;
    if (Date.now() > deadline) throw new Error(`document not ingested within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { VectorStore } from '@parley/rag';
import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import {
  Client,
  createTenant,
  createUser,
  login,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { createKnowledgeBase, fakeLlmEnv, waitForDocument } from '../support/knowledge-bases';
import { NO_PGVECTOR_REASON, pgvectorAvailable } from '../support/pgvector';
import { describeRequiredInCi } from '../support/skip';
import { createTestDatabase } from '../support/test-database';
import { createTestApp, ROOT, type TestApp } from '../support/test-app';

/** A small corpus where the lexical and vector rankings of one question differ. */
const CORPUS = [
  { title: 'Refunds', text: 'Refunds are paid within five working days after the parcel arrives.' },
  { title: 'Returns', text: 'Return a parcel with the printed label; the refund follows arrival.' },
  { title: 'Warranty', text: 'Jackets carry a two year warranty against manufacturing defects.' },
  { title: 'Shipping', text: 'Parcels ship every weekday; Norway needs a customs declaration.' },
  { title: 'Gift cards', text: 'Gift cards cannot be refunded or exchanged for cash.' },
];

describeRequiredInCi(pgvectorAvailable(), `vector and hybrid retrieval: ${NO_PGVECTOR_REASON}`)(
  'retrieval with embeddings: pgvector, hybrid fusion, embedding cache and cost',
  () => {
    let fake: FakeLlm;
    let t: TestApp;
    let db: DataSource;
    let store: VectorStore;
    let tenant: TestTenant;
    let member: TestUser;
    let root: Client;

    beforeAll(async () => {
      fake = await FakeLlm.start();
      t = await createTestApp({
        env: {
          WORKERS_IN_PROCESS: 'true',
          ...fakeLlmEnv(fake.url, { EMBEDDING_MODEL: 'fake-embedding' }),
        },
      });
      db = t.app.get(DataSource);
      store = t.app.get(VectorStore);
      tenant = await createTenant(t.app);
      member = await createUser(tenant);
      root = new Client(t.app, (await login(t.app, ROOT.email, ROOT.password)).accessToken);
    });
    afterAll(async () => {
      await t?.close();
      await fake?.close();
    });

    const embeddingCalls = () => fake.requests.filter((r) => r.path.endsWith('/embeddings'));
    const embeddedTexts = () => embeddingCalls().flatMap((r) => [r.body.input].flat() as string[]);

    const createKb = async (client: Client = member.client) =>
      (await createKnowledgeBase(client)).id;
    const ready = waitForDocument;
    const addDoc = async (
      kb: string,
      doc: { title: string; text: string; metadata?: object },
      client: Client = member.client,
    ) => {
      const res = await client.post(`/v1/knowledge-bases/${kb}/documents`, doc);
      expect(res.status).toBe(202);
      return ready(client, kb, res.body.id);
    };
    const search = (kb: string, body: object, client: Client = member.client) =>
      client.post(`/v1/knowledge-bases/${kb}/search`, body);

    it('fuses the lexical and vector rankings by reciprocal rank', async () => {
      const kb = await createKb();
      for (const doc of CORPUS) expect((await addDoc(kb, doc)).status).toBe('ready');
      const query = 'when is my refund paid after the parcel arrives';
      const lexical = (await search(kb, { query, topK: 5, mode: 'lexical' })).body;
      const vector = (await search(kb, { query, topK: 5, mode: 'vector' })).body;
      const hybrid = (await search(kb, { query, topK: 5 })).body;
      expect(lexical.mode).toBe('lexical');
      expect(vector).toMatchObject({ mode: 'vector', vectorStore: 'pgvector' });
      expect(hybrid).toMatchObject({ mode: 'hybrid', vectorStore: 'pgvector' });
      expect(hybrid.notice).toBeUndefined();
      // Cosine scores are similarities, in order.
      const cosines = vector.results.map((r: { score: number }) => r.score);
      expect(cosines).toEqual([...cosines].sort((a, b) => b - a));
      expect(cosines[0]).toBeLessThanOrEqual(1);

      // The fused order is RRF (k = 60) over the two rankings, recomputed here.
      const rank = (list: { chunkId: string }[], id: string) =>
        list.findIndex((r) => r.chunkId === id) + 1 || undefined;
      const expected = [...new Set([...lexical.results, ...vector.results].map((r) => r.chunkId))]
        .map((id) => {
          const l = rank(lexical.results, id);
          const v = rank(vector.results, id);
          return { id, score: (l ? 1 / (60 + l) : 0) + (v ? 1 / (60 + v) : 0), l, v };
        })
        .sort((a, b) => b.score - a.score);
      expect(hybrid.results.map((r: { chunkId: string }) => r.chunkId)).toEqual(
        expected.map((e) => e.id),
      );
      expect(hybrid.results[0].ranks).toEqual({ lexical: expected[0]!.l, vector: expected[0]!.v });
      expect(hybrid.results[0].text).toContain('Refunds are paid within five working days');
    });

    it('filters by document metadata in every mode', async () => {
      const kb = await createKb();
      await addDoc(kb, { ...CORPUS[0]!, metadata: { lang: 'en', team: 'billing' } });
      await addDoc(kb, { ...CORPUS[1]!, metadata: { lang: 'en', team: 'logistics' } });
      for (const mode of ['lexical', 'vector', 'hybrid']) {
        const res = await search(kb, {
          query: 'refund parcel',
          mode,
          filter: { team: 'logistics' },
        });
        expect(res.status).toBe(200);
        expect(res.body.results.length).toBeGreaterThan(0);
        for (const r of res.body.results) expect(r.metadata.team).toBe('logistics');
      }
      const none = await search(kb, { query: 'refund', mode: 'vector', filter: { team: 'x' } });
      expect(none.body.results).toEqual([]);
    });

    it('diversifies near-duplicate passages with MMR when asked', async () => {
      const kb = await createKb();
      const text = 'Refunds are paid within five working days after the parcel arrives.';
      await addDoc(kb, { title: 'A', text });
      // The same words, so the same BM25 score; only the punctuation differs.
      await addDoc(kb, { title: 'B', text: text.replace('.', '!') });
      await addDoc(kb, { title: 'C', text: 'Refunds for gift cards are never paid out.' });
      const query = 'refunds paid within five working days after the parcel arrives';
      const plain = (await search(kb, { query, topK: 2 })).body.results;
      const diverse = (await search(kb, { query, topK: 2, diversity: 0.3 })).body.results;
      expect(plain.map((r: { title: string }) => r.title).sort()).toEqual(['A', 'B']);
      expect(diverse.map((r: { title: string }) => r.title)).toContain('C');
    });

    it('embeds a chunk once: re-ingestion and identical chunks cost nothing', async () => {
      const kb = await createKb();
      // A text this tenant has never embedded.
      const text = `${CORPUS[2]!.text} Reference ${Math.random().toString(36).slice(2)}.`;
      fake.reset();
      const first = await addDoc(kb, { title: 'Warranty', text });
      expect(embeddedTexts()).toEqual([text]);
      // Re-ingesting reads every vector from the cache.
      const again = await member.client.post(
        `/v1/knowledge-bases/${kb}/documents/${first.id}/reingest`,
      );
      expect(again.status).toBe(202);
      expect((await ready(member.client, kb, first.id)).status).toBe('ready');
      expect(embeddingCalls()).toHaveLength(1);
      // Another knowledge base of the tenant with the same chunk: cached too.
      await addDoc(await createKb(), { title: 'Copy', text });
      expect(embeddingCalls()).toHaveLength(1);
      // Another tenant pays for its own (the cache is per tenant).
      const other = await createUser(await createTenant(t.app));
      await addDoc(await createKb(other.client), { title: 'W', text }, other.client);
      expect(embeddingCalls()).toHaveLength(2);
    });

    it('meters embeddings in the usage ledger, for ingestion and for queries', async () => {
      const own = await createTenant(t.app);
      const user = await createUser(own);
      const kb = await createKb(user.client);
      await addDoc(kb, CORPUS[3]!, user.client);
      await search(kb, { query: 'customs for Norway', mode: 'vector' }, user.client);
      const rows: { kind: string; model: string; prompt_tokens: number; user_id: string | null }[] =
        await db.query(
          `SELECT kind, model, prompt_tokens, user_id FROM usage_ledger WHERE tenant_id = $1 ORDER BY created_at`,
          [own.id],
        );
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r).toMatchObject({ kind: 'embedding', model: 'fake-embedding' });
      expect(rows[0]!.prompt_tokens).toBeGreaterThan(5);
      // The query is charged to whoever searched.
      expect(rows[1]!.user_id).toBe(user.id);
    });

    it('fails a document with a readable reason when the tenant budget is spent', async () => {
      const own = await createTenant(t.app);
      const user = await createUser(own);
      const set = await root.put('/v1/admin/budgets', {
        budgets: [{ scope: 'tenant', scopeId: own.id, period: 'day', limitUsd: '0.000000001' }],
      });
      expect(set.status).toBe(200);
      const kb = await createKb(user.client);
      const doc = await addDoc(kb, CORPUS[4]!, user.client);
      expect(doc.status).toBe('failed');
      expect(doc.error).toMatch(/budget/i);
      expect(doc.chunkCount).toBe(0);
      // Nothing half-indexed: the failed document's chunks are not searchable.
      expect(
        (await search(kb, { query: 'gift cards', mode: 'lexical' }, user.client)).body.results,
      ).toEqual([]);
    });

    it('retries a failing embedding call, then fails the document saying why', async () => {
      const kb = await createKb();
      fake.reset();
      fake.failNext({ kind: 'status', status: 500 }, { times: 100 });
      const res = await member.client.post(`/v1/knowledge-bases/${kb}/documents`, {
        title: 'Flaky',
        text: 'A document the embedding model cannot take right now.',
      });
      const doc = await ready(member.client, kb, res.body.id);
      expect(doc.status).toBe('failed');
      expect(doc.error).toMatch(/Ingestion failed after 3 attempts.*Re-ingest/);
      // Each job attempt retried the call inside the provider policy as well.
      expect(embeddingCalls().length).toBeGreaterThanOrEqual(3);
      fake.reset();
      await member.client.post(`/v1/knowledge-bases/${kb}/documents/${res.body.id}/reingest`);
      expect((await ready(member.client, kb, res.body.id)).status).toBe('ready');
    });

    it('removes vectors with their document and knowledge base', async () => {
      const kb = await createKb();
      const a = await addDoc(kb, CORPUS[0]!);
      await addDoc(kb, CORPUS[1]!);
      expect(await store.count(tenant.id, kb)).toBe(2);
      expect(
        (await member.client.delete(`/v1/knowledge-bases/${kb}/documents/${a.id}`)).status,
      ).toBe(204);
      expect(await store.count(tenant.id, kb)).toBe(1);
      const left = (await search(kb, { query: 'refunds paid', mode: 'vector', topK: 10 })).body;
      expect(left.results.map((r: { documentId: string }) => r.documentId)).not.toContain(a.id);
      expect((await member.client.delete(`/v1/knowledge-bases/${kb}`)).status).toBe(204);
      expect(await store.count(tenant.id, kb)).toBe(0);
    });

    it('never shows another tenant’s chunks in vector or hybrid search', async () => {
      const mine = await createKb();
      await addDoc(mine, CORPUS[0]!);
      const other = await createUser(await createTenant(t.app));
      const theirs = await createKb(other.client);
      await addDoc(
        theirs,
        { title: 'Theirs', text: 'Refunds are paid the same day, always.' },
        other.client,
      );
      for (const mode of ['vector', 'hybrid']) {
        const res = await search(
          theirs,
          { query: 'refunds are paid', mode, topK: 20 },
          other.client,
        );
        expect(res.body.results.map((r: { title: string }) => r.title)).toEqual(['Theirs']);
        expect((await search(mine, { query: 'refunds', mode }, other.client)).status).toBe(404);
      }
    });

    it('refuses to re-ingest a document while it is being ingested, and cleans up after a delete mid-ingestion', async () => {
      const kb = await createKb();
      fake.reset();
      // The first embedding call hangs until its per-attempt timeout; the retry answers.
      fake.failNext({ kind: 'hang' }, { model: 'fake-embedding' });
      const added = await member.client.post(`/v1/knowledge-bases/${kb}/documents`, {
        title: 'Slow',
        text: `Embedding this takes a while. ${Math.random()}`,
      });
      for (let i = 0; i < 50; i++) {
        const doc = await member.client.get(`/v1/knowledge-bases/${kb}/documents/${added.body.id}`);
        if (doc.body.status === 'processing') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const busy = await member.client.post(
        `/v1/knowledge-bases/${kb}/documents/${added.body.id}/reingest`,
      );
      expect(busy.status).toBe(409);
      expect(busy.body.detail).toMatch(/being ingested/);
      // Deleted while its embedding call hangs: once the job finishes, no vector is left behind.
      expect(
        (await member.client.delete(`/v1/knowledge-bases/${kb}/documents/${added.body.id}`)).status,
      ).toBe(204);
      await fake.waitForRequest(
        (r) => r.path.endsWith('/embeddings') && r.finishedAt !== undefined,
        10_000,
      );
      for (let i = 0; i < 50 && (await store.count(tenant.id, kb)) > 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      expect(await store.count(tenant.id, kb)).toBe(0);
    });

    it('answers chat from hybrid retrieval with citations', async () => {
      const kb = await createKb();
      for (const doc of CORPUS) await addDoc(kb, doc);
      const conv = await member.client.post('/v1/conversations', { knowledgeBaseIds: [kb] });
      fake.reset();
      fake.replyNext('Refunds are paid within five working days [1].');
      const res = await member.client.post(`/v1/conversations/${conv.body.id}/messages`, {
        content: 'When are refunds paid after the parcel arrives?',
      });
      expect(res.status).toBe(201);
      expect(res.body.assistantMessage.citations[0]).toMatchObject({ n: 1, title: 'Refunds' });
      const chat = fake.requests.find((r) => r.path.endsWith('/chat/completions'))!;
      expect(JSON.stringify(chat.body.messages)).toContain('[1] Refunds');
      // The question itself was embedded for the vector half of retrieval.
      expect(embeddedTexts()).toContain('When are refunds paid after the parcel arrives?');
    });

    it('answers lexically when the embedding model fails, and says so', async () => {
      const kb = await createKb();
      await addDoc(kb, CORPUS[0]!);
      fake.reset();
      fake.failNext({ kind: 'status', status: 500 }, { model: 'fake-embedding', times: 50 });
      const hybrid = await search(kb, { query: `refunds paid ${Math.random()}` });
      expect(hybrid.status).toBe(200);
      expect(hybrid.body).toMatchObject({
        mode: 'lexical',
        notice: expect.stringMatching(/failed/),
      });
      expect(hybrid.body.results[0].title).toBe('Refunds');
      const vector = await search(kb, { query: `refunds ${Math.random()}`, mode: 'vector' });
      expect(vector.status).toBe(503);
      expect(vector.body.code).toBe('VECTOR_SEARCH_FAILED');
      // Chat still answers, from the lexical passages.
      const conv = await member.client.post('/v1/conversations', { knowledgeBaseIds: [kb] });
      const turn = await member.client.post(`/v1/conversations/${conv.body.id}/messages`, {
        content: `When are refunds paid? ${Math.random()}`,
      });
      expect(turn.status).toBe(201);
      expect(turn.body.assistantMessage.citations[0].title).toBe('Refunds');
      fake.reset();
      // Let the provider's breaker close again for whatever runs next.
      await new Promise((r) => setTimeout(r, 1100));
    });

    it('treats an empty filter as none and refuses NUL in filters', async () => {
      const kb = await createKb();
      await addDoc(kb, CORPUS[2]!);
      const all = await search(kb, { query: 'warranty', filter: {} });
      expect(all.body.results).toHaveLength(1);
      const nul = await search(kb, { query: 'warranty', filter: { k: 'a\u0000b' } });
      expect(nul.status).toBe(400);
      expect(JSON.stringify(nul.body)).toContain('NUL');
    });
  },
);

describeRequiredInCi(pgvectorAvailable(), `embedding model pinning: ${NO_PGVECTOR_REASON}`)(
  'a knowledge base keeps the embedding model it was built with',
  () => {
    it('refuses to mix vectors of another model, and searches lexically meanwhile', async () => {
      const fake = await FakeLlm.start();
      const database = await createTestDatabase();
      const boot = (model: string) =>
        createTestApp({
          database,
          env: { WORKERS_IN_PROCESS: 'true', ...fakeLlmEnv(fake.url, { EMBEDDING_MODEL: model }) },
        });
      try {
        let t = await boot('fake-embedding');
        const tenant = await createTenant(t.app);
        const kb = await createKnowledgeBase(tenant.admin.client);
        const doc = await tenant.admin.client.post(
          `/v1/knowledge-bases/${kb.id}/documents`,
          CORPUS[0],
        );
        expect((await waitForDocument(tenant.admin.client, kb.id, doc.body.id)).status).toBe(
          'ready',
        );
        expect((await tenant.admin.client.get(`/v1/knowledge-bases/${kb.id}`)).body).toMatchObject({
          embeddingSignature: 'env/fake-embedding',
          embeddingDimensions: 64,
        });
        await t.close();

        // The operator switches EMBEDDING_MODEL: the old vectors are not comparable any more.
        t = await boot('fake-embedding-2');
        const client = new Client(
          t.app,
          (await login(t.app, tenant.admin.email, tenant.admin.password, tenant.name)).accessToken,
        );
        const res = await client.post(`/v1/knowledge-bases/${kb.id}/search`, { query: 'refunds' });
        expect(res.body).toMatchObject({ mode: 'lexical' });
        expect(res.body.notice).toContain('embedded with env/fake-embedding');
        const added = await client.post(`/v1/knowledge-bases/${kb.id}/documents`, CORPUS[1]);
        const failed = await waitForDocument(client, kb.id, added.body.id);
        expect(failed).toMatchObject({ status: 'failed' });
        expect(failed.error).toMatch(/cannot be mixed/);
        await t.close();
      } finally {
        await database.drop();
        await fake.close();
      }
    });
  },
);

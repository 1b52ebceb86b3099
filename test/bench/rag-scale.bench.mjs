// Retrieval at scale: ingests N synthetic chunks (100,000 by default) into one knowledge base
// through the API of a built server (embedded mode with PGlite's pgvector, or --services), with
// embeddings from the fake upstream (EMBEDDING_DIMENSIONS, 384 by default), then measures search
// latency for lexical, vector and hybrid at 1 and 16 concurrent clients. Prints JSON.
//   node scripts/build.mjs && node test/bench/rag-scale.bench.mjs [--chunks 100000] [--dims 384] [--services]
//     [--quick]   (100 chunks, a few searches per mode and level)
//
// The text is synthetic: words drawn from a Zipf distribution over a 30,000-word made-up
// vocabulary, one ~45-word paragraph per chunk, 100 paragraphs per document. Queries take four
// words of a random chunk, skipping the 50 most frequent words (which play the part that stop
// words play in real text, and which Postgres would drop from a real query).
import { join } from 'node:path';
import {
  benchArgs,
  call,
  check,
  login,
  root,
  skip,
  startServer,
  withServicesDatabase,
  withTempDir,
} from './support.mjs';

const args = benchArgs({
  chunks: { type: 'number', integer: true, min: 1, default: 100_000, quick: 100 },
  dims: { type: 'number', integer: true, min: 1, default: 384 },
  services: { type: 'flag' },
});
const CHUNKS = args.chunks;
const DIMS = args.dims;
const SERVICES = args.services;
if (SERVICES && !process.env.DATABASE_URL) skip('--services needs DATABASE_URL');
/** Searches per measurement: [clients, searches each] for the warm-up and the two levels. */
const SEARCHES = args.quick
  ? { warmUp: [2, 1], one: [1, 3], sixteen: [16, 1] }
  : { warmUp: [4, 5], one: [1, 60], sixteen: [16, 20] };
const PER_DOC = 100;
const WORDS_PER_CHUNK = 45;
const VOCABULARY = 30_000;
const { FakeLlm } = await import(join(root, 'dist/test/support/fake-llm/index.js'));

/** A seeded generator, so every run ingests the same corpus. */
function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(7);
const SYLLABLES = 'ka lo mi ne ru sa te vo zi pa do fe gu hi ja ko li mu na po'.split(' ');
const vocabulary = Array.from({ length: VOCABULARY }, (_, i) => {
  let w = '';
  for (let n = i + 1; n > 0; n = Math.floor(n / SYLLABLES.length))
    w += SYLLABLES[n % SYLLABLES.length];
  return `${w}x`; // a letter no stemmer strips, so lexemes stay distinct
});
// Zipf (s = 1): cumulative weights for sampling by binary search.
const cumulative = [];
vocabulary.reduce((sum, _, i) => (cumulative[i] = sum + 1 / (i + 1)), 0);
const total = cumulative[cumulative.length - 1];
const zipfWord = () => {
  const x = random() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
const paragraph = () =>
  `${Array.from({ length: WORDS_PER_CHUNK }, () => vocabulary[zipfWord()]).join(' ')}.`;

const percentile = (sorted, p) =>
  +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(1);

async function parley(env) {
  const fake = await FakeLlm.start();
  const server = startServer({
    RATE_LIMIT_DEFAULT: '1000000/60',
    RATE_LIMIT_AUTH: '1000000/60',
    // Ingesting 100,000 chunks into PGlite outlasts the default 15-minute access token.
    JWT_ACCESS_TTL_SECONDS: '86400',
    // PGLITE_SHARED_BUFFERS (e.g. 1GB) from the caller's environment, to compare cache sizes.
    ...(process.env.PGLITE_SHARED_BUFFERS
      ? { PGLITE_SHARED_BUFFERS: process.env.PGLITE_SHARED_BUFFERS }
      : {}),
    WORKERS_IN_PROCESS: 'true',
    LLM_BASE_URL: fake.url,
    LLM_MODEL: 'fake-model',
    LLM_API_KEY: 'sk-bench',
    EMBEDDING_MODEL: 'fake-embedding',
    EMBEDDING_DIMENSIONS: String(DIMS),
    // fake-embedding is not in config/pricing.yaml: price it, so every call is metered.
    COST_UNKNOWN_MODEL_INPUT_PER_MTOK: '0.02',
    COST_UNKNOWN_MODEL_OUTPUT_PER_MTOK: '0.02',
    RAG_MAX_DOCUMENT_BYTES: String(16 * 1024 * 1024),
    BODY_LIMIT_BYTES: String(16 * 1024 * 1024),
    ...env,
  });
  const base = `http://127.0.0.1:${await server.listening}`;
  try {
    const token = await login(base);
    const api = (method, path, body) => call(base, method, path, { token, body });
    // The bench tenant embeds far more than the default daily budget allows.
    const me = await api('GET', '/v1/auth/me');
    await api('PUT', '/v1/admin/budgets', {
      budgets: [{ scope: 'tenant', scopeId: me.tenantId, period: 'day', limitUsd: '100000' }],
    });
    // One paragraph per chunk: ~110 tokens each (made-up words take 2-3 tokens), in chunks of 150.
    const kb = await api('POST', '/v1/knowledge-bases', {
      name: 'scale',
      language: 'simple',
      chunkTokens: 150,
      chunkOverlap: 0,
    });

    const documents = Math.ceil(CHUNKS / PER_DOC);
    const samples = [];
    const t0 = performance.now();
    for (let d = 0; d < documents; d += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, documents - d) }, (_, j) => {
          const paragraphs = Array.from({ length: PER_DOC }, paragraph);
          if ((d + j) % 10 === 0) samples.push(paragraphs[(d + j) % PER_DOC]);
          return api('POST', `/v1/knowledge-bases/${kb.id}/documents`, {
            title: `Document ${d + j}`,
            text: paragraphs.join('\n\n'),
            metadata: { n: d + j },
          });
        }),
      );
    }
    const uploadSeconds = (performance.now() - t0) / 1000;
    let status;
    for (;;) {
      const pending = await pendingCount();
      status = await api('GET', `/v1/knowledge-bases/${kb.id}`);
      if (pending === 0) break;
      process.stderr.write(`ingested ${status.chunkCount} chunks (${pending} documents to go)\n`);
      await new Promise((r) => setTimeout(r, args.quick ? 200 : 5000));
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    check(status.chunkCount > 0, `${documents} documents made no chunks`);
    const embeddingCalls = fake.requests.filter((r) => r.path.endsWith('/embeddings'));
    const embeddingSeconds =
      embeddingCalls.reduce((s, r) => s + ((r.finishedAt ?? r.receivedAt) - r.receivedAt), 0) /
      1000;

    async function pendingCount() {
      let n = 0;
      let cursor = '';
      do {
        const page = await api(
          'GET',
          `/v1/knowledge-bases/${kb.id}/documents?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        );
        n += page.items.filter((d) => d.status === 'pending' || d.status === 'processing').length;
        const failed = page.items.find((d) => d.status === 'failed');
        if (failed) throw new Error(`document ${failed.title} failed: ${failed.error}`);
        cursor = page.nextCursor ?? '';
      } while (cursor);
      return n;
    }

    // Queries: four words of a sampled chunk, outside the 50 most frequent.
    const frequent = new Set(vocabulary.slice(0, 50));
    const queries = Array.from({ length: 400 }, (_, i) => {
      const words = samples[i % samples.length]
        .replace('.', '')
        .split(' ')
        .filter((w) => !frequent.has(w));
      return Array.from({ length: 4 }, () => words[Math.floor(random() * words.length)]).join(' ');
    });

    const measure = async (mode, clients, perClient) => {
      const latencies = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          for (let i = 0; i < perClient; i++) {
            const query = queries[next++ % queries.length];
            const s0 = performance.now();
            const res = await api('POST', `/v1/knowledge-bases/${kb.id}/search`, {
              query,
              topK: 10,
              mode,
            });
            latencies.push(performance.now() - s0);
            check(res.mode === mode, `asked for ${mode}, ran ${res.mode}`);
            check(res.results.length > 0, `a ${mode} search for "${query}" found nothing`);
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      return { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) };
    };
    const search = {};
    for (const mode of ['lexical', 'vector', 'hybrid']) {
      await measure(mode, ...SEARCHES.warmUp); // warm-up: caches, plans; the query-embedding LRU stays cold below
      search[mode] = {
        '1 client': await measure(mode, ...SEARCHES.one),
        '16 clients': await measure(mode, ...SEARCHES.sixteen),
      };
    }
    return {
      chunks: status.chunkCount,
      documents,
      dimensions: DIMS,
      vectorStore: (
        await api('POST', `/v1/knowledge-bases/${kb.id}/search`, { query: 'x', mode: 'vector' })
      ).vectorStore,
      ingest: {
        uploadSeconds: +uploadSeconds.toFixed(1),
        seconds: +ingestSeconds.toFixed(1),
        chunksPerSecond: +(status.chunkCount / ingestSeconds).toFixed(1),
        fakeEmbeddingSeconds: +embeddingSeconds.toFixed(1),
        chunksPerSecondExcludingEmbedding: +(
          status.chunkCount / Math.max(0.001, ingestSeconds - embeddingSeconds)
        ).toFixed(1),
      },
      searchMs: search,
    };
  } finally {
    await server.stop();
    await fake.close();
  }
}

const result = SERVICES
  ? await withServicesDatabase((env) => parley(env))
  : await withTempDir('rag-scale', (dir) => parley({ PGLITE_DATA_DIR: join(dir, 'pglite') }));
console.log(JSON.stringify({ mode: SERVICES ? 'services' : 'embedded', ...result }, null, 2));

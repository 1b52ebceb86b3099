// Lexical retrieval quality on the Cranfield collection (../shared/data/retrieval/cranfield):
// ingests the 1,400 abstracts into a knowledge base through the API of a built server
// (embedded mode, or services mode with --services and DATABASE_URL), runs the 225 queries
// through POST /v1/knowledge-bases/:id/search, and reports nDCG@10, recall@100 and MRR next
// to a plain BM25 (k1 0.9, b 0.4, lower-cased words, no stemming) computed here as the
// reference. Prints JSON. Run after `node scripts/build.mjs`:
//   node test/bench/rag-eval.bench.mjs [--services] [--queries 225] [--quick]
// With --queries N (--quick: 5), only the first N queries run, against the abstracts judged
// for them and the first 20 others (the reference scores the same subset).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  benchArgs,
  call,
  check,
  dataset,
  login,
  skip,
  startServer,
  withServicesDatabase,
  withTempDir,
} from './support.mjs';

const args = benchArgs({
  services: { type: 'flag' },
  queries: { type: 'number', integer: true, min: 1, quick: 5 },
});
const DIR = dataset('retrieval/cranfield');
if (args.services && !process.env.DATABASE_URL) skip('--services needs DATABASE_URL');

/** `.I n` records with `.X` fields. */
function records(file) {
  const out = [];
  let current;
  let field;
  for (const line of readFileSync(join(DIR, file), 'utf8').split('\n')) {
    const tag = /^\.([A-Z])(?:\s+(\d+))?\s*$/.exec(line);
    if (tag?.[1] === 'I') {
      current = { id: Number(tag[2]) };
      out.push(current);
      field = undefined;
    } else if (tag) {
      field = tag[1];
      current[field] = '';
    } else if (field) current[field] += `${line}\n`;
  }
  return out;
}

const allDocs = records('cran.all.1400').map((d) => ({
  id: d.id,
  title: (d.T ?? '').replace(/\s+/g, ' ').trim() || `Document ${d.id}`,
  text: (d.W ?? '').replace(/[ \t]+/g, ' ').trim(),
}));
// cranqrel numbers the queries 1…225 in order of appearance, not by their .I number.
const queries = records('cran.qry')
  .map((q, i) => ({
    id: i + 1,
    text: q.W.replace(/\s+/g, ' ').trim(),
  }))
  .slice(0, args.queries);
const judgements = new Map();
for (const line of readFileSync(join(DIR, 'cranqrel'), 'utf8').trim().split('\n')) {
  const [q, d, grade] = line.trim().split(/\s+/).map(Number);
  if (!judgements.has(q)) judgements.set(q, new Map());
  // Grade 1 is most relevant, 4 least; -1 is not relevant.
  if (grade >= 1 && grade <= 4) judgements.get(q).set(d, 5 - grade);
}
const judged = new Set(queries.flatMap((q) => [...(judgements.get(q.id)?.keys() ?? [])]));
const docs = args.queries ? allDocs.filter((d, i) => i < 20 || judged.has(d.id)) : allDocs;

function metrics(rankings) {
  let ndcg = 0;
  let recall = 0;
  let mrr = 0;
  let judged = 0;
  for (const { id, ranked } of rankings) {
    const gains = judgements.get(id);
    if (!gains || gains.size === 0) continue;
    judged++;
    const dcg = ranked
      .slice(0, 10)
      .reduce((s, d, i) => s + (2 ** (gains.get(d) ?? 0) - 1) / Math.log2(i + 2), 0);
    const ideal = [...gains.values()]
      .sort((a, b) => b - a)
      .slice(0, 10)
      .reduce((s, g, i) => s + (2 ** g - 1) / Math.log2(i + 2), 0);
    ndcg += ideal ? dcg / ideal : 0;
    recall += ranked.slice(0, 100).filter((d) => gains.has(d)).length / gains.size;
    const first = ranked.findIndex((d) => gains.has(d));
    mrr += first >= 0 ? 1 / (first + 1) : 0;
  }
  const r = (x) => +(x / judged).toFixed(4);
  return { queries: judged, ndcgAt10: r(ndcg), recallAt100: r(recall), mrr: r(mrr) };
}

const STOP = new Set(
  'a an and are as at be been by can do does for from has have how in into is it its of on or that the their there these this to was were what when where which who why will with'.split(
    ' ',
  ),
);
const words = (s) => (s.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => !STOP.has(w));

/** The reference: BM25 over whole abstracts, k1 0.9, b 0.4. */
function referenceBm25() {
  const k1 = 0.9;
  const b = 0.4;
  const tfs = docs.map((d) => {
    const tf = new Map();
    for (const w of words(d.text)) tf.set(w, (tf.get(w) ?? 0) + 1);
    return { id: d.id, tf, length: [...tf.values()].reduce((a, c) => a + c, 0) };
  });
  const avgdl = tfs.reduce((s, d) => s + d.length, 0) / tfs.length;
  const df = new Map();
  for (const d of tfs) for (const w of d.tf.keys()) df.set(w, (df.get(w) ?? 0) + 1);
  const idf = (w) => Math.log(1 + (tfs.length - (df.get(w) ?? 0) + 0.5) / ((df.get(w) ?? 0) + 0.5));
  return queries.map((q) => {
    const terms = [...new Set(words(q.text))];
    const scored = tfs
      .map((d) => ({
        id: d.id,
        score: terms.reduce((s, w) => {
          const tf = d.tf.get(w) ?? 0;
          return (
            s + (tf ? (idf(w) * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * d.length) / avgdl)) : 0)
          );
        }, 0),
      }))
      .filter((d) => d.score > 0)
      .sort((a, b) => b.score - a.score || a.id - b.id);
    return { id: q.id, ranked: scored.slice(0, 100).map((d) => d.id) };
  });
}

async function parley(env) {
  const server = startServer({
    RATE_LIMIT_DEFAULT: '1000000/60',
    RATE_LIMIT_AUTH: '1000000/60',
    WORKERS_IN_PROCESS: 'true',
    ...env,
  });
  const base = `http://127.0.0.1:${await server.listening}`;
  try {
    const token = await login(base);
    const post = (path, body) => call(base, 'POST', path, { token, body });
    // Abstracts are short: one chunk each, as the reference scores whole abstracts.
    const kb = await post('/v1/knowledge-bases', {
      name: 'cranfield',
      language: 'english',
      chunkTokens: 2048,
      chunkOverlap: 0,
    });
    const t0 = performance.now();
    const ids = [];
    for (let i = 0; i < docs.length; i += 20)
      ids.push(
        ...(
          await Promise.all(
            docs.slice(i, i + 20).map((d) =>
              post(`/v1/knowledge-bases/${kb.id}/documents`, {
                title: d.title,
                text: d.text,
                metadata: { docId: d.id },
              }),
            ),
          )
        ).map((r) => r.id),
      );
    // Until no document is pending or processing (a document without text ends as failed).
    const statuses = async () => {
      const counts = {};
      let cursor = '';
      do {
        const page = await call(
          base,
          'GET',
          `/v1/knowledge-bases/${kb.id}/documents?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
          { token },
        );
        for (const d of page.items) counts[d.status] = (counts[d.status] ?? 0) + 1;
        cursor = page.nextCursor ?? '';
      } while (cursor);
      return counts;
    };
    let counts;
    for (;;) {
      counts = await statuses();
      if (!counts.pending && !counts.processing) break;
      await new Promise((r) => setTimeout(r, args.quick ? 200 : 1000));
    }
    const empty = docs.filter((d) => !d.text).length;
    check(
      (counts.ready ?? 0) + (counts.failed ?? 0) === docs.length && (counts.failed ?? 0) <= empty,
      `${docs.length} documents (${empty} without text) ended as ${JSON.stringify(counts)}`,
    );
    const ingestSeconds = (performance.now() - t0) / 1000;
    const latencies = [];
    const rankings = [];
    for (const q of queries) {
      const s0 = performance.now();
      const res = await post(`/v1/knowledge-bases/${kb.id}/search`, {
        query: q.text,
        topK: 100,
        mode: 'lexical',
      });
      latencies.push(performance.now() - s0);
      check(Array.isArray(res.results), `a search answered ${JSON.stringify(res).slice(0, 300)}`);
      rankings.push({ id: q.id, ranked: res.results.map((r) => r.metadata.docId) });
    }
    latencies.sort((a, b) => a - b);
    return {
      ...metrics(rankings),
      ingestSeconds: +ingestSeconds.toFixed(1),
      documents: counts,
      searchMs: {
        p50: +latencies[Math.floor(latencies.length / 2)].toFixed(1),
        p95: +latencies[Math.floor(latencies.length * 0.95)].toFixed(1),
      },
    };
  } finally {
    await server.stop();
  }
}

const lexical = await withTempDir('rag', (dir) =>
  args.services
    ? withServicesDatabase((env) => parley(env))
    : parley({ PGLITE_DATA_DIR: join(dir, 'pglite') }),
);
check(lexical.ndcgAt10 > 0, 'no judged abstract came up in any top 10');
console.log(
  JSON.stringify(
    {
      node: process.version,
      collection: 'cranfield',
      documents: docs.length,
      parleyLexical: lexical,
      referenceBm25: metrics(referenceBm25()),
    },
    null,
    2,
  ),
);

import { randomUUID } from 'node:crypto';

import type { VectorPoint, VectorStore } from '../ports/vector-store.port';

export interface VectorStoreUnderTest {
  store: VectorStore;
  /** Removes whatever make() created (collections, tables, connections). */
  cleanup: () => Promise<void>;
}

const DIM = 8;
/** A size no test stores anything at, for the "nothing stored for this size" case. */
const UNUSED_DIM = 5;

/** `DIM`-dimensional vector from its first components; the rest are zero. */
function vec(...head: number[]): number[] {
  return [...head, ...new Array<number>(DIM - head.length).fill(0)];
}

/** A fresh tenant and knowledge base per test, so tests (and runs) never see each other's data. */
function scope(): { tenantId: string; knowledgeBaseId: string } {
  return { tenantId: randomUUID(), knowledgeBaseId: randomUUID() };
}

function point(
  at: { tenantId: string; knowledgeBaseId: string },
  documentId: string,
  vector: number[],
): VectorPoint {
  return { chunkId: randomUUID(), ...at, documentId, vector };
}

/**
 * The behaviour every `VectorStore` adapter must have, as one jest suite. Call it inside the
 * adapter's spec (inside a `describeWhen(...)` block when the backing service may be absent, so
 * the whole suite is skipped and `make` is never called).
 *
 * `make` is called once for the suite (beforeAll) and `cleanup` once after it; the store is
 * shared by the tests, which stay apart by using fresh random tenant and knowledge-base ids.
 * `make` should return an initialised store (init() already called).
 */
export function vectorStoreContract(name: string, make: () => Promise<VectorStoreUnderTest>): void {
  describe(`VectorStore contract: ${name}`, () => {
    let store: VectorStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ store, cleanup } = await make());
    });

    afterAll(async () => {
      await cleanup?.();
    });

    const ids = (hits: { chunkId: string }[]) => hits.map((h) => h.chunkId);

    it('returns the nearest chunk first, score ~1 for an identical vector, scores descending', async () => {
      const at = scope();
      const doc = randomUUID();
      const same = point(at, doc, vec(1));
      const near = point(at, doc, vec(1, 0.5));
      const far = point(at, doc, vec(1, 2));
      const orthogonal = point(at, doc, vec(0, 0, 1));
      // Stored out of order, so an adapter returning insertion order fails.
      await store.upsert([far, orthogonal, same, near]);

      const hits = await store.search({ ...at, vector: vec(1), topK: 10 });

      expect(ids(hits)).toEqual([same, near, far, orthogonal].map((p) => p.chunkId));
      expect(hits[0].score).toBeCloseTo(1, 4);
      expect(hits[1].score).toBeCloseTo(1 / Math.sqrt(1.25), 3);
      expect(hits[2].score).toBeCloseTo(1 / Math.sqrt(5), 3);
      expect(hits[3].score).toBeCloseTo(0, 3);
      for (let i = 1; i < hits.length; i++) {
        expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
      }

      const top2 = await store.search({ ...at, vector: vec(1), topK: 2 });
      expect(ids(top2)).toEqual([same.chunkId, near.chunkId]);
    });

    it('never returns another tenant or another knowledge base', async () => {
      const mine = scope();
      const otherTenant = { tenantId: randomUUID(), knowledgeBaseId: mine.knowledgeBaseId };
      const otherKb = { tenantId: mine.tenantId, knowledgeBaseId: randomUUID() };
      const own = point(mine, randomUUID(), vec(0.9, 0.1));
      // Identical to the query, so only the filter can keep them out.
      const leakTenant = point(otherTenant, randomUUID(), vec(1));
      const leakKb = point(otherKb, randomUUID(), vec(1));
      await store.upsert([own, leakTenant, leakKb]);

      const hits = await store.search({ ...mine, vector: vec(1), topK: 10 });
      expect(ids(hits)).toEqual([own.chunkId]);

      expect(ids(await store.search({ ...otherTenant, vector: vec(1), topK: 10 }))).toEqual([
        leakTenant.chunkId,
      ]);
      expect(ids(await store.search({ ...otherKb, vector: vec(1), topK: 10 }))).toEqual([
        leakKb.chunkId,
      ]);
      expect(await store.count(mine.tenantId, mine.knowledgeBaseId)).toBe(1);
      expect(await store.count(otherTenant.tenantId, otherTenant.knowledgeBaseId)).toBe(1);
    });

    it('restricts results to the given documentIds', async () => {
      const at = scope();
      const [d1, d2, d3] = [randomUUID(), randomUUID(), randomUUID()];
      const a1 = point(at, d1, vec(1));
      const a2 = point(at, d1, vec(1, 1));
      const b = point(at, d2, vec(1, 0.2));
      const c = point(at, d3, vec(0, 1));
      await store.upsert([a1, a2, b, c]);

      const onlyD1 = await store.search({ ...at, vector: vec(1), topK: 10, documentIds: [d1] });
      expect(ids(onlyD1).sort()).toEqual([a1.chunkId, a2.chunkId].sort());

      const d2d3 = await store.search({ ...at, vector: vec(1), topK: 10, documentIds: [d2, d3] });
      expect(ids(d2d3)).toEqual([b.chunkId, c.chunkId]);

      const all = await store.search({ ...at, vector: vec(1), topK: 10 });
      expect(all).toHaveLength(4);
    });

    it('replaces the vector when the same chunk id is upserted again', async () => {
      const at = scope();
      const doc = randomUUID();
      const moving = point(at, doc, vec(1));
      const still = point(at, doc, vec(0, 1));
      await store.upsert([moving, still]);
      expect(await store.count(at.tenantId, at.knowledgeBaseId)).toBe(2);

      await store.upsert([{ ...moving, vector: vec(0, 0, 1) }]);

      expect(await store.count(at.tenantId, at.knowledgeBaseId)).toBe(2);
      const atNew = await store.search({ ...at, vector: vec(0, 0, 1), topK: 1 });
      expect(ids(atNew)).toEqual([moving.chunkId]);
      expect(atNew[0].score).toBeCloseTo(1, 4);
      const atOld = await store.search({ ...at, vector: vec(1), topK: 10 });
      expect(atOld).toHaveLength(2);
      expect(atOld.every((h) => h.score < 0.5)).toBe(true);
    });

    it('deleteDocument removes only that document; deleteKnowledgeBase removes the whole kb', async () => {
      const at = scope();
      const neighbour = { tenantId: at.tenantId, knowledgeBaseId: randomUUID() };
      const [gone, kept] = [randomUUID(), randomUUID()];
      const g1 = point(at, gone, vec(1));
      const g2 = point(at, gone, vec(1, 0.1));
      const k1 = point(at, kept, vec(0.5, 1));
      const n1 = point(neighbour, randomUUID(), vec(1));
      await store.upsert([g1, g2, k1, n1]);
      expect(await store.count(at.tenantId, at.knowledgeBaseId)).toBe(3);

      await store.deleteDocument(at.tenantId, at.knowledgeBaseId, gone);

      expect(await store.count(at.tenantId, at.knowledgeBaseId)).toBe(1);
      expect(ids(await store.search({ ...at, vector: vec(1), topK: 10 }))).toEqual([k1.chunkId]);
      expect(await store.search({ ...at, vector: vec(1), topK: 10, documentIds: [gone] })).toEqual(
        [],
      );

      await store.deleteKnowledgeBase(at.tenantId, at.knowledgeBaseId);

      expect(await store.count(at.tenantId, at.knowledgeBaseId)).toBe(0);
      expect(await store.search({ ...at, vector: vec(1), topK: 10 })).toEqual([]);
      // The tenant's other knowledge base is untouched.
      expect(await store.count(neighbour.tenantId, neighbour.knowledgeBaseId)).toBe(1);
      expect(ids(await store.search({ ...neighbour, vector: vec(1), topK: 10 }))).toEqual([
        n1.chunkId,
      ]);
    });

    it('answers [] for a vector size nothing was stored at, and for an empty knowledge base', async () => {
      const at = scope();
      const unused = [1, ...new Array<number>(UNUSED_DIM - 1).fill(0)];
      expect(await store.search({ ...at, vector: unused, topK: 5 })).toEqual([]);
      expect(await store.search({ ...at, vector: vec(1), topK: 5 })).toEqual([]);
      expect(await store.count(at.tenantId, at.knowledgeBaseId)).toBe(0);
      // Deleting what is not there is not an error either.
      await store.deleteDocument(at.tenantId, at.knowledgeBaseId, randomUUID());
      await store.deleteKnowledgeBase(at.tenantId, at.knowledgeBaseId);
    });
  });
}

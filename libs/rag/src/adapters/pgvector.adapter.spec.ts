import { DataSource } from 'typeorm';
import { NO_PGVECTOR_REASON, pgvectorAvailable } from '../../../../test/support/pgvector';
import { describeRequiredInCi } from '../../../../test/support/skip';
import { createTestApp, type TestApp } from '../../../../test/support/test-app';
import { PgvectorStore } from './pgvector.adapter';
import { vectorStoreContract } from './vector-store.contract';

describeRequiredInCi(pgvectorAvailable(), `pgvector contract: ${NO_PGVECTOR_REASON}`)(
  'PgvectorStore against the real database',
  () => {
    let t: TestApp;
    vectorStoreContract('pgvector', async () => {
      t = await createTestApp();
      const store = new PgvectorStore(t.app.get(DataSource));
      await store.init();
      return { store, cleanup: () => t.close() };
    });
  },
);

describe('PgvectorStore on a server without pgvector', () => {
  const refusal = /no pgvector extension.*VECTOR_STORE=qdrant.*VECTOR_STORE=none/;
  if (!pgvectorAvailable())
    it('refuses at boot, saying what to install or choose instead', async () => {
      await expect(createTestApp({ env: { VECTOR_STORE: 'pgvector' } })).rejects.toThrow(refusal);
    });
  // This server has pgvector, so the refusal is asked of a connection that lists no extension.
  else
    it('refuses in init, saying what to install or choose instead', async () => {
      const query = jest.fn().mockResolvedValue([]);
      const store = new PgvectorStore({ query } as unknown as DataSource);
      await expect(store.init()).rejects.toThrow(refusal);
      expect(query).toHaveBeenCalledTimes(1);
    });
});

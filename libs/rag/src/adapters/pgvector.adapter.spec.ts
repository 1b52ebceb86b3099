import { DataSource } from 'typeorm';
import { NO_PGVECTOR_REASON, pgvectorAvailable } from '../../../../test/support/pgvector';
import { describeWhen } from '../../../../test/support/skip';
import { createTestApp, type TestApp } from '../../../../test/support/test-app';
import { PgvectorStore } from './pgvector.adapter';
import { vectorStoreContract } from './vector-store.contract';

describeWhen(pgvectorAvailable(), `pgvector contract: ${NO_PGVECTOR_REASON}`)(
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

describeWhen(!pgvectorAvailable(), 'pgvector refusal: this database has pgvector')(
  'PgvectorStore on a server without pgvector',
  () => {
    it('refuses at boot, saying what to install or choose instead', async () => {
      await expect(createTestApp({ env: { VECTOR_STORE: 'pgvector' } })).rejects.toThrow(
        /no pgvector extension.*VECTOR_STORE=qdrant.*VECTOR_STORE=none/,
      );
    });
  },
);

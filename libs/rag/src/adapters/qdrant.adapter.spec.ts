import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { QdrantClient } from '@qdrant/js-client-rest';

import { describeWhen } from '../../../../test/support/skip';
import { QdrantVectorStore } from './qdrant.adapter';
import { vectorStoreContract } from './vector-store.contract';

const url = process.env.QDRANT_URL;
const apiKey = process.env.QDRANT_API_KEY || undefined;

describeWhen(
  Boolean(url),
  'Qdrant contract: QDRANT_URL is not set (no Qdrant server on this machine)',
)('QdrantVectorStore against a real Qdrant', () => {
  vectorStoreContract('qdrant', async () => {
    const client = new QdrantClient({ url: url!, apiKey, checkCompatibility: false });
    // A prefix of its own per run: parallel runs and the app's own collections stay apart, and
    // the "size nothing was stored at" case meets a collection that really does not exist.
    const collectionPrefix = `parley_test_${randomBytes(4).toString('hex')}`;
    const store = new QdrantVectorStore({ url: url!, apiKey, collectionPrefix }, client);
    await store.init();
    return {
      store,
      cleanup: async () => {
        const { collections } = await client.getCollections();
        for (const { name } of collections) {
          if (name.startsWith(`${collectionPrefix}_`)) await client.deleteCollection(name);
        }
      },
    };
  });
});

// These need no Qdrant: a closed port and a server that refuses the key are real sockets here.
describe('QdrantVectorStore.init when Qdrant cannot be used', () => {
  const secret = 'sk-not-to-be-logged';

  // The client warns about an API key over plain http, which these local sockets are.
  beforeEach(() => jest.spyOn(console, 'warn').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  async function listen(server: Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('names the URL, the cause and what to change when nothing listens', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const store = new QdrantVectorStore({ url: `http://127.0.0.1:${port}`, apiKey: secret });

    const error = await store.init().then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    expect(error?.message).toBe(
      `Qdrant at http://127.0.0.1:${port} did not answer (ECONNREFUSED); ` +
        'check QDRANT_URL and QDRANT_API_KEY, or set VECTOR_STORE=pgvector.',
    );
  });

  it('reports a refused API key by status, without the key', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`Invalid api-key ${secret}`);
    });
    const port = await listen(server);
    try {
      const store = new QdrantVectorStore({ url: `http://127.0.0.1:${port}`, apiKey: secret });
      const error = await store.init().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(
        /^Qdrant at http:\/\/127\.0\.0\.1:\d+ did not answer \(HTTP 401/,
      );
      expect(error?.message).toContain('QDRANT_API_KEY');
      expect(error?.message).not.toContain(secret);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

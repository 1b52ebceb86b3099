import { z } from 'zod';
import { int, optionalString, url } from './primitives';

/** The `rag` namespace of the configuration. */
export const ragConfig = {
  rag: z.strictObject({
    /** Chunk size and overlap of new knowledge bases, in tokens. */
    chunkTokens: int(32, 8192),
    chunkOverlap: int(0, 4096),
    /** Largest document accepted (413 beyond). */
    maxDocumentBytes: int(1024, 1024 * 1024 * 1024),
    /** How long reading one uploaded PDF or HTML file may take (422 beyond). */
    extractionTimeoutMs: int(100, 600_000),
    /** Passages a chat turn retrieves, and the prompt tokens they may fill. */
    topK: int(1, 50),
    contextTokens: int(50, 100_000),
    /**
     * Where chunk vectors live: `auto` is pgvector when the database has the extension, else
     * none (lexical search only, said at boot and in search responses).
     */
    vectorStore: z.enum(['auto', 'pgvector', 'qdrant', 'none'], {
      error: 'expected auto, pgvector, qdrant or none',
    }),
    qdrant: z.strictObject({
      url: url(['http:', 'https:']),
      apiKey: optionalString,
      collectionPrefix: z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, {
        error: 'expected lower-case letters, digits and underscores',
      }),
    }),
    /** Texts per embedding request during ingestion. */
    embedBatchSize: int(1, 2048),
    /** Hybrid search: candidates taken from each ranking, and the RRF constant k. */
    hybridCandidates: int(10, 1000),
    /** A pending or processing document with no progress this long is failed (lost job). */
    lostAfterMinutes: int(1, 24 * 60),
    rrfK: int(1, 1000),
  }),
};

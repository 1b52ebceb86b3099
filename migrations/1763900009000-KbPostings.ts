import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An inverted index for BM25: one row per (knowledge base, lexeme, chunk) with the term
 * frequency and the chunk's length, so a query reads only the postings of its own terms
 * instead of unnesting every matching chunk's tsvector.
 */
export class KbPostings1763900009000 implements MigrationInterface {
  name = 'KbPostings1763900009000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE kb_postings (
        knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
        lexeme text NOT NULL,
        chunk_id uuid NOT NULL REFERENCES kb_chunks(id) ON DELETE CASCADE,
        tf integer NOT NULL,
        length integer NOT NULL,
        PRIMARY KEY (knowledge_base_id, lexeme, chunk_id)
      )`);
    await q.query(`CREATE INDEX kb_postings_chunk ON kb_postings (chunk_id)`);
    await q.query(`
      INSERT INTO kb_postings (knowledge_base_id, lexeme, chunk_id, tf, length)
      SELECT c.knowledge_base_id, u.lexeme, c.id, coalesce(array_length(u.positions, 1), 1), c.length
        FROM kb_chunks c, unnest(c.tsv) u`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE kb_postings');
  }
}

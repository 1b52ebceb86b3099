import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { DataSource } from 'typeorm';

const TABLES = ['kb_chunks', 'kb_postings', 'kb_documents'];
const EVERY_DOCUMENTS = 25;

/**
 * Keeps the planner's statistics of the retrieval tables fresh in embedded mode. PGlite runs
 * PostgreSQL single-user, without autovacuum, so nothing else ever analyzes them; without
 * statistics the planner takes a large knowledge base for a small one and sorts every vector
 * instead of using its HNSW index. Services mode leaves this to autovacuum.
 */
@Injectable()
export class StatisticsRefresher {
  private readonly logger = new Logger('Ingest');
  private sinceLast = 0;
  private analyzedOnce = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** After a document is ingested: the first one after boot, then every 25th, refreshes. */
  async documentIngested(vectorTable?: string): Promise<void> {
    if (this.config.mode !== 'embedded') return;
    this.sinceLast++;
    if (this.analyzedOnce && this.sinceLast < EVERY_DOCUMENTS) return;
    this.sinceLast = 0;
    this.analyzedOnce = true;
    const tables = vectorTable ? [...TABLES, vectorTable] : TABLES;
    try {
      await this.dataSource.query(`ANALYZE ${tables.join(', ')}`);
    } catch (error) {
      this.logger.warn(`could not refresh table statistics: ${(error as Error).message}`);
    }
  }
}

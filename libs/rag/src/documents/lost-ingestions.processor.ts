import { Injectable } from '@nestjs/common';
import { type JobProcessor, type QueueJob, QueueProcessor, type QueueResults } from '@parley/queue';
import { IngestProcessor } from './ingest.processor';

/**
 * The repeatable `rag.maintenance` sweep (every 15 minutes): fails ingestions whose job was
 * lost. A queue of its own, so that its delayed schedule never holds up ingestion workers.
 */
@Injectable()
@QueueProcessor('rag.maintenance')
export class LostIngestionsProcessor implements JobProcessor<'rag.maintenance'> {
  constructor(private readonly ingest: IngestProcessor) {}

  async process(_job: QueueJob<'rag.maintenance'>): Promise<QueueResults['rag.maintenance']> {
    return { lost: await this.ingest.failLost() };
  }
}

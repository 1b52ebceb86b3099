import { Module } from '@nestjs/common';
import { IngestProcessor } from './documents/ingest.processor';

/** The jobs of retrieval (document ingestion), for the api's in-process workers and apps/worker. */
@Module({ providers: [IngestProcessor] })
export class RagJobsModule {}

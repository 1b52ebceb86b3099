import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { Piscina } from 'piscina';
import type { DocumentParsers, ParseTask } from './document-parsers';
import {
  type ExtractedDocument,
  type ExtractionInput,
  extractDocument,
} from './document-extractor';
import { DocumentUnreadableError } from './extraction.errors';

/**
 * Text extraction for uploads, with PDF and HTML parsing in worker threads: a crafted file can
 * keep a parser busy for a long time, and on the event loop that would stall every request of
 * the process. Each parse has a deadline; past it the worker is terminated and the upload is
 * refused with 422. The pool starts its threads on first use and lets idle ones go.
 */
@Injectable()
export class DocumentExtractionService implements OnModuleDestroy {
  private pool?: Piscina;

  constructor(private readonly config: AppConfig) {}

  extract(input: ExtractionInput): Promise<ExtractedDocument> {
    const parsers: DocumentParsers = {
      pdf: (bytes) => this.parse({ kind: 'pdf', bytes }),
      html: (html) => this.parse({ kind: 'html', html }),
    };
    return extractDocument(input, parsers);
  }

  private async parse<T>(task: ParseTask): Promise<T> {
    const timeoutMs = this.config.rag.extractionTimeoutMs;
    this.pool ??= new Piscina({
      filename: workerFile(),
      minThreads: 0,
      maxThreads: 2,
      idleTimeout: 30_000,
    });
    try {
      return (await this.pool.run(task, { signal: AbortSignal.timeout(timeoutMs) })) as T;
    } catch (error) {
      if ((error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError')
        throw new DocumentUnreadableError(
          `Reading the document took longer than ${timeoutMs / 1000} s (RAG_EXTRACTION_TIMEOUT_MS), so it was stopped. Upload a simpler or smaller file, or its text.`,
          error,
        );
      throw error;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool?.destroy();
  }
}

/**
 * The worker's JavaScript. From the build it sits beside this file; under Jest, which runs the
 * TypeScript sources, it is the build's copy (`npm test` builds first).
 */
function workerFile(): string {
  const beside = join(__dirname, 'extraction.worker.js');
  if (existsSync(beside)) return beside;
  const built = join(
    __dirname.replace(/[\\/]libs[\\/]rag[\\/]/, '/dist/libs/rag/'),
    'extraction.worker.js',
  );
  if (existsSync(built)) return built;
  throw new Error(`The extraction worker is missing (${beside}); run npm run build.`);
}

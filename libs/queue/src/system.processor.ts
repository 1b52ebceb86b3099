import { Injectable } from '@nestjs/common';
import type { QueueResults } from './queue.definitions';
import { type JobProcessor, type QueueJob, QueueProcessor } from './queue.processor';

/** Answers `ping` jobs: the end-to-end proof that enqueueing and working both function. */
@Injectable()
@QueueProcessor('system')
export class SystemProcessor implements JobProcessor<'system'> {
  async process(job: QueueJob<'system'>): Promise<QueueResults['system']> {
    return { pong: true, sentAt: job.data.sentAt, processedBy: process.pid };
  }
}

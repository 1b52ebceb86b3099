/**
 * Every queue and the payload of each of its jobs, declared once. A lib that owns a job adds
 * its queue here and its processor in its own folder. Payloads carry ids, never message
 * content, PII or audio bytes.
 */
export interface QueuePayloads {
  /** Platform self-checks: proves a process can enqueue and a worker picks the job up. */
  system: { kind: 'ping'; sentAt: string };
  /** Ingests (chunks and indexes) one knowledge-base document. */
  rag: { kind: 'ingest'; documentId: string };
}

export interface QueueResults {
  system: { pong: true; sentAt: string; processedBy: number };
  rag: { status: 'ready' | 'failed'; chunks: number };
}

export type QueueName = keyof QueuePayloads;

export const QUEUE_NAMES: readonly QueueName[] = ['system', 'rag'];

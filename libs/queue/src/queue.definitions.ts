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
  /** Fails ingestions whose job was lost (a repeatable job, on a queue of its own). */
  'rag.maintenance': { kind: 'sweep' };
  /** Speaks one audio job's text (the text stays in its row). */
  'audio.tts': { audioJobId: string };
  /** Transcribes one audio job's stored upload. */
  'audio.stt': { audioJobId: string };
  /** A voice turn's middle step: the transcript through the chat pipeline. */
  'audio.voice': { audioJobId: string };
  /** Deletes expired audio and its jobs (a repeatable job). */
  'audio.retention': { kind: 'sweep' };
}

export interface QueueResults {
  system: { pong: true; sentAt: string; processedBy: number };
  rag: { status: 'ready' | 'failed'; chunks: number };
  'rag.maintenance': { lost: number };
  'audio.tts': { audioJobId: string; status: 'completed' | 'failed' };
  'audio.stt': { audioJobId: string; status: 'completed' | 'failed' };
  'audio.voice': { audioJobId: string; status: 'completed' | 'failed' };
  'audio.retention': { deleted: number };
}

export type QueueName = keyof QueuePayloads;

export const QUEUE_NAMES: readonly QueueName[] = [
  'system',
  'rag',
  'rag.maintenance',
  'audio.tts',
  'audio.stt',
  'audio.voice',
  'audio.retention',
];

import type { OutputFormat } from '../media/transcode';

export interface SpeechRequest {
  text: string;
  voice?: string;
  language?: string;
  speed?: number;
  format: OutputFormat;
}

export interface SynthesizedSpeech {
  audio: Buffer;
  format: OutputFormat;
  contentType: string;
  durationMs?: number;
}

export interface TranscriptionRequest {
  audio: Buffer;
  /** What the upload was detected as (wav, flac, …). */
  format: string;
  language?: string;
  prompt?: string;
}

export interface Transcript {
  text: string;
  language: string;
  durationMs: number;
  segments?: { startMs: number; endMs: number; text: string }[];
}

/** Text to speech. The abstract class is the DI token (design.md, ports). */
export abstract class SpeechSynthesizer {
  /** The name the ledger prices (`espeak-ng`, `tts-1`…). */
  abstract readonly model: string;
  abstract readonly provider: string;
  abstract synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SynthesizedSpeech>;
}

/** Speech to text. */
export abstract class SpeechRecognizer {
  abstract readonly model: string;
  abstract readonly provider: string;
  abstract transcribe(request: TranscriptionRequest, signal?: AbortSignal): Promise<Transcript>;
}

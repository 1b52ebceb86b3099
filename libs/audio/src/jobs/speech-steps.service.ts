import { Injectable } from '@nestjs/common';
import { AppConfig, currentSpan, KeyRingCipher, Traced } from '@parley/core';
import { type AlongsideWrites, CostService, type CostSubject } from '@parley/cost';
import { meteredSpeech } from '../metered-speech';
import type { OutputFormat } from '../media/transcode';
import { AudioStorage } from '../ports/audio-storage.port';
import type { Transcript } from '../ports/speech.port';
import { SpeechProviders } from '../speech-providers.service';
import { openResult } from './audio-result-seal';
import type { AudioJobRow } from './audio-jobs.service';

/** The speech a job produced, as its result shows it. */
export interface SpeechResult {
  format: OutputFormat;
  contentType: string;
  bytes: number;
  durationMs?: number;
  provider: string;
  model: string;
  /** Where to fetch it: Parley's content route, or a presigned S3 URL that expires. */
  url: string;
  urlExpiresAt?: string;
}

/**
 * The two metered speech steps the jobs are made of: text to stored speech, and stored audio
 * to text. Each is admitted against the budgets before the engine runs and settled after,
 * together with the writes that record its result (so a job is never done but unpaid).
 */
@Injectable()
export class SpeechSteps {
  constructor(
    private readonly providers: SpeechProviders,
    private readonly storage: AudioStorage,
    private readonly cost: CostService,
    private readonly cipher: KeyRingCipher,
    private readonly config: AppConfig,
  ) {}

  @Traced('parley.speech.synthesize')
  async speak(
    subject: CostSubject,
    jobId: string,
    request: {
      text: string;
      voice?: string;
      language?: string;
      speed?: number;
      format: OutputFormat;
    },
    done: (result: SpeechResult, outputKey: string) => AlongsideWrites,
    signal?: AbortSignal,
  ): Promise<SpeechResult> {
    const synthesizer = this.providers.synthesizer(subject.tenantId);
    currentSpan().setAttributes({
      'parley.speech.provider': synthesizer.provider,
      'parley.speech.model': synthesizer.model,
      'parley.audio_job.id': jobId,
    });
    const { result } = await meteredSpeech(
      this.cost,
      { subject, kind: 'text_to_speech', engine: synthesizer, quantity: request.text.length },
      async () => {
        const speech = await synthesizer.synthesize(request, signal);
        const key = `${subject.tenantId}/${jobId}/speech.${speech.format === 'opus' ? 'ogg' : speech.format}`;
        await this.storage.put(key, speech.audio, speech.contentType);
        const signed = await this.storage.signedUrl(key, speech.contentType);
        const result: SpeechResult = {
          format: speech.format,
          contentType: speech.contentType,
          bytes: speech.audio.length,
          ...(speech.durationMs ? { durationMs: speech.durationMs } : {}),
          provider: synthesizer.provider,
          model: synthesizer.model,
          url: signed ?? `/v1/audio/jobs/${jobId}/content`,
          ...(signed
            ? {
                urlExpiresAt: new Date(
                  Date.now() + this.config.audio.storage.urlExpirySeconds * 1000,
                ).toISOString(),
              }
            : {}),
        };
        return { result, key };
      },
      ({ result, key }) => ({
        usage: { characters: request.text.length },
        alongside: done(result, key),
      }),
    );
    return result;
  }

  @Traced('parley.speech.transcribe')
  async transcribe(
    subject: CostSubject,
    input: { key: string; format: string; durationMs: number; language?: string; prompt?: string },
    done: (transcript: Transcript) => AlongsideWrites,
    signal?: AbortSignal,
  ): Promise<Transcript> {
    const recognizer = this.providers.recognizer(subject.tenantId);
    currentSpan().setAttributes({
      'parley.speech.provider': recognizer.provider,
      'parley.speech.model': recognizer.model,
    });
    return meteredSpeech(
      this.cost,
      { subject, kind: 'speech_to_text', engine: recognizer, quantity: input.durationMs / 1000 },
      async () =>
        recognizer.transcribe(
          {
            audio: await this.storage.read(input.key),
            format: input.format,
            language: input.language,
            prompt: input.prompt,
          },
          signal,
        ),
      (transcript) => ({
        usage: { audioSeconds: (transcript.durationMs || input.durationMs) / 1000 },
        alongside: done(transcript),
      }),
    );
  }

  /** The job's text, unsealed (it is stored like message content, bound to the job). */
  open(row: Pick<AudioJobRow, 'id' | 'tenant_id' | 'text'>): string {
    return row.text === null
      ? ''
      : this.cipher.open(row.text, { tenantId: row.tenant_id, id: row.id });
  }

  /** The job's result with its texts unsealed. */
  openResult(row: Pick<AudioJobRow, 'id' | 'tenant_id' | 'result'>): Record<string, unknown> {
    return openResult(this.cipher, row, row.result ?? {});
  }
}

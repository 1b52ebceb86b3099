import { Injectable } from '@nestjs/common';
import { type JobProcessor, type QueueJob, QueueProcessor, type QueueResults } from '@parley/queue';
import { AudioJobLifecycle } from './audio-job.lifecycle';
import { subjectOf } from './job-subject';
import { SpeechSteps } from './speech-steps.service';

interface SttOptions {
  inputFormat: string;
  durationMs: number;
  language?: string;
  prompt?: string;
}

/**
 * Transcribes an `audio.stt` job's stored upload. For a transcription job that is the result;
 * for a voice turn it is the first step: the transcript is kept on the job for the next.
 */
@Injectable()
@QueueProcessor('audio.stt')
export class SttProcessor implements JobProcessor<'audio.stt'> {
  constructor(
    private readonly lifecycle: AudioJobLifecycle,
    private readonly steps: SpeechSteps,
  ) {}

  async process(
    job: QueueJob<'audio.stt'>,
    signal: AbortSignal,
  ): Promise<QueueResults['audio.stt']> {
    return this.lifecycle.run(
      job,
      signal,
      async (row) => {
        const options = row.options as unknown as SttOptions;
        const voice = row.kind === 'voice';
        await this.steps.transcribe(
          subjectOf(row),
          {
            key: row.input_key!,
            format: options.inputFormat,
            durationMs: options.durationMs,
            language: options.language,
            prompt: options.prompt,
          },
          (t) =>
            voice
              ? this.lifecycle.stepWrites(row, { transcript: t }, 33)
              : this.lifecycle.completeWrites(row, { ...t }),
          signal,
        );
        // The transcript stays in the job's row (sealed); the queue keeps only the reference.
      },
      { startAt: 10 },
    );
  }
}

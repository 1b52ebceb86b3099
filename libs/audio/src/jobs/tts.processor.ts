import { Injectable } from '@nestjs/common';
import { type JobProcessor, type QueueJob, QueueProcessor, type QueueResults } from '@parley/queue';
import type { OutputFormat } from '../media/transcode';
import { AudioJobLifecycle } from './audio-job.lifecycle';
import { subjectOf } from './job-subject';
import { SpeechSteps } from './speech-steps.service';

/**
 * Speaks an `audio.tts` job's text and stores the audio; for a voice turn, the last step,
 * it speaks the reply the chat step kept on the job.
 */
@Injectable()
@QueueProcessor('audio.tts')
export class TtsProcessor implements JobProcessor<'audio.tts'> {
  constructor(
    private readonly lifecycle: AudioJobLifecycle,
    private readonly steps: SpeechSteps,
  ) {}

  async process(
    job: QueueJob<'audio.tts'>,
    signal: AbortSignal,
  ): Promise<QueueResults['audio.tts']> {
    return this.lifecycle.run(
      job,
      signal,
      async (row) => {
        const options = row.options as {
          voice?: string;
          language?: string;
          speed?: number;
          format: OutputFormat;
        };
        const voice = row.kind === 'voice';
        const text = voice
          ? ((this.steps.openResult(row).reply as { content?: string } | undefined)?.content ?? '')
          : this.steps.open(row);
        if (voice && !text.trim()) {
          // Nothing to say (the reply was withheld or empty): the turn ends without audio.
          const writes = this.lifecycle.completeWrites(row, { audio: null });
          await this.lifecycle.commit(writes);
          return;
        }
        await this.steps.speak(
          subjectOf(row),
          row.id,
          { ...options, text },
          (result, key) =>
            this.lifecycle.completeWrites(row, voice ? { audio: result } : { ...result }, key),
          signal,
        );
      },
      { startAt: 10 },
    );
  }
}

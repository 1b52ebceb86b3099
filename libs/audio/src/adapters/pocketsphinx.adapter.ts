import { UnsupportedLanguageError } from '../audio.errors';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../media/run-process';
import { toSpeechWav, wavDurationMs } from '../media/transcode';
import { SpeechRecognizer, type Transcript, type TranscriptionRequest } from '../ports/speech.port';

/**
 * Local speech to text with CMU pocketsphinx (Debian packages pocketsphinx and
 * pocketsphinx-en-us): the upload resampled by ffmpeg to 16 kHz mono WAV, then
 * `pocketsphinx_continuous -infile`, whose stdout is one line per utterance. English only.
 */
export class PocketsphinxRecognizer extends SpeechRecognizer {
  readonly model = 'pocketsphinx';
  readonly provider = 'local';

  constructor(private readonly timeoutMs: number) {
    super();
  }

  /** Only the en-us model is installed: another language is refused before queueing. */
  validate(request: Pick<TranscriptionRequest, 'language'>): void {
    const language = request.language?.toLowerCase();
    if (language && !['en', 'en-us', 'english'].includes(language))
      throw new UnsupportedLanguageError(request.language);
  }

  async transcribe(request: TranscriptionRequest, signal?: AbortSignal): Promise<Transcript> {
    const wav = await toSpeechWav(request.audio, this.timeoutMs, signal);
    const file = join(tmpdir(), `parley-stt-${randomUUID()}.wav`);
    await writeFile(file, wav);
    try {
      const { stdout } = await runProcess(
        'pocketsphinx_continuous',
        ['-infile', file, '-logfn', '/dev/null'],
        { timeoutMs: this.timeoutMs, signal },
      );
      const lines = stdout
        .toString('utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      return { text: lines.join(' '), language: 'en', durationMs: wavDurationMs(wav) };
    } finally {
      await rm(file, { force: true });
    }
  }
}

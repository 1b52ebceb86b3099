import { InvalidVoiceError } from '../audio.errors';
import { CONTENT_TYPES } from '../media/audio-probe';
import { runProcess } from '../media/run-process';
import { encode, wavDurationMs } from '../media/transcode';
import {
  type SpeechRequest,
  SpeechSynthesizer,
  type SynthesizedSpeech,
} from '../ports/speech.port';

/** espeak-ng's default rate, in words per minute; `speed` scales it. */
const BASE_WPM = 175;

/**
 * Local text to speech with espeak-ng (Debian package espeak-ng): WAV on stdout, converted by
 * ffmpeg to mp3 or opus. Voices are espeak's language names (`en`, `en-us`, `de`, `fr`…).
 */
export class EspeakSynthesizer extends SpeechSynthesizer {
  readonly model = 'espeak-ng';
  readonly provider = 'local';
  private voices?: Promise<Set<string>>;

  constructor(private readonly timeoutMs: number) {
    super();
  }

  /** Refuses a voice espeak-ng does not have (400), before anything is queued. */
  async validate(request: Pick<SpeechRequest, 'voice' | 'language'>): Promise<void> {
    const voice = this.voiceOf(request);
    const known = await this.knownVoices();
    if (!known.has(voice.toLowerCase())) throw new InvalidVoiceError(voice);
  }

  async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SynthesizedSpeech> {
    const wpm = Math.round(Math.min(450, Math.max(80, BASE_WPM * (request.speed ?? 1))));
    const { stdout: wav } = await runProcess(
      'espeak-ng',
      ['--stdout', '--stdin', '-v', this.voiceOf(request), '-s', String(wpm)],
      { input: Buffer.from(request.text, 'utf8'), timeoutMs: this.timeoutMs, signal },
    );
    const audio = await encode(wav, request.format, this.timeoutMs, signal);
    return {
      audio,
      format: request.format,
      contentType: CONTENT_TYPES[request.format],
      durationMs: wavDurationMs(wav),
    };
  }

  private voiceOf(request: Pick<SpeechRequest, 'voice' | 'language'>): string {
    return request.voice ?? request.language ?? 'en';
  }

  private knownVoices(): Promise<Set<string>> {
    this.voices ??= runProcess('espeak-ng', ['--voices'], { timeoutMs: 10_000 })
      .then(({ stdout }) => {
        const names = new Set<string>();
        for (const line of stdout.toString('utf8').split('\n').slice(1)) {
          // Pty Language Age/Gender VoiceName File (Other languages: "(en 2)"…)
          const cols = line.trim().split(/\s+/);
          if (cols.length < 5) continue;
          names.add(cols[1]!.toLowerCase());
          names.add(cols[3]!.toLowerCase());
          names.add(cols[4]!.split('/').pop()!.toLowerCase());
          for (const other of line.matchAll(/\(([\w-]+) \d+\)/g))
            names.add(other[1]!.toLowerCase());
        }
        return names;
      })
      .catch((error: unknown) => {
        this.voices = undefined;
        throw error;
      });
    return this.voices;
  }
}

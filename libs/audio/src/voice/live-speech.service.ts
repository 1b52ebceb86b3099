import { Injectable } from '@nestjs/common';
import { AppConfig, currentSpan, Traced } from '@parley/core';
import { CostService, type CostSubject } from '@parley/cost';
import { toSpeechWav } from '../media/transcode';
import { meteredSpeech } from '../metered-speech';
import { SpeechProviders } from '../speech-providers.service';
import { readWav, resample, wavFile } from './pcm';
import { VAD_SAMPLE_RATE } from './silero-vad';

/**
 * Speech for a live session: a caller's utterance to text and a sentence of the answer to PCM,
 * through the tenant's engines (the local ones or an OpenAI-compatible provider) and metered
 * like speech jobs, but held in memory: nothing of a live session is stored as a file.
 */
@Injectable()
export class LiveSpeech {
  constructor(
    private readonly providers: SpeechProviders,
    private readonly cost: CostService,
    private readonly config: AppConfig,
  ) {}

  /** The text of an utterance of 16 kHz samples ('' when nothing was recognised). */
  @Traced('parley.voice.transcribe')
  async transcribe(
    subject: CostSubject,
    utterance: Int16Array,
    language: string | undefined,
    signal: AbortSignal,
  ): Promise<string> {
    const recognizer = this.providers.recognizer(subject.tenantId);
    const seconds = utterance.length / VAD_SAMPLE_RATE;
    currentSpan().setAttributes({
      'parley.speech.provider': recognizer.provider,
      'parley.speech.model': recognizer.model,
      'parley.voice.utterance_ms': Math.round(seconds * 1000),
    });
    const transcript = await meteredSpeech(
      this.cost,
      { subject, kind: 'speech_to_text', engine: recognizer, quantity: seconds },
      () =>
        recognizer.transcribe(
          { audio: wavFile(utterance, VAD_SAMPLE_RATE), format: 'wav', language },
          signal,
        ),
      () => ({ usage: { audioSeconds: seconds } }),
    );
    return transcript.text.trim();
  }

  /** A sentence spoken, as mono PCM16 samples at `sampleRate`. */
  @Traced('parley.voice.synthesize')
  async synthesize(
    subject: CostSubject,
    text: string,
    options: { voice?: string; language?: string },
    sampleRate: number,
    signal: AbortSignal,
  ): Promise<Int16Array> {
    const synthesizer = this.providers.synthesizer(subject.tenantId);
    currentSpan().setAttributes({
      'parley.speech.provider': synthesizer.provider,
      'parley.speech.model': synthesizer.model,
    });
    const speech = await meteredSpeech(
      this.cost,
      { subject, kind: 'text_to_speech', engine: synthesizer, quantity: text.length },
      () => synthesizer.synthesize({ text, ...options, format: 'wav' }, signal),
      () => ({ usage: { characters: text.length } }),
    );
    // PCM16 WAV is read here; anything else (a provider that answers float or compressed
    // audio) goes through ffmpeg first.
    const wav =
      readWav(speech.audio) ??
      readWav(await toSpeechWav(speech.audio, this.config.audio.engineTimeoutMs, signal));
    if (!wav) throw new Error('the speech engine answered audio that could not be decoded');
    return resample(wav.samples, wav.sampleRate, sampleRate);
  }
}

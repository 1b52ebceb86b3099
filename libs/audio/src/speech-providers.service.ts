import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { ProviderUnavailableError } from './audio.errors';
import { EspeakSynthesizer } from './adapters/espeak.adapter';
import {
  OpenAiRecognizer,
  OpenAiSpeech,
  OpenAiSynthesizer,
} from './adapters/openai-speech.adapter';
import { PocketsphinxRecognizer } from './adapters/pocketsphinx.adapter';
import { commandAvailable } from './media/run-process';
import type { SpeechRecognizer, SpeechSynthesizer } from './ports/speech.port';

export type SpeechProviderName = 'local' | 'openai';

/**
 * The speech engines a tenant gets: `audio.tenants[tenantId]`, else `audio.provider` (auto:
 * the OpenAI-compatible API when AUDIO_BASE_URL is set, else the local engines).
 */
@Injectable()
export class SpeechProviders {
  private readonly local: { synthesizer: EspeakSynthesizer; recognizer: PocketsphinxRecognizer };
  private readonly remote?: { synthesizer: OpenAiSynthesizer; recognizer: OpenAiRecognizer };

  constructor(private readonly config: AppConfig) {
    const { audio } = config;
    this.local = {
      synthesizer: new EspeakSynthesizer(audio.engineTimeoutMs),
      recognizer: new PocketsphinxRecognizer(audio.engineTimeoutMs),
    };
    if (audio.openai.baseUrl) {
      const api = new OpenAiSpeech({
        ...audio.openai,
        baseUrl: audio.openai.baseUrl,
        timeoutMs: audio.engineTimeoutMs,
      });
      this.remote = {
        synthesizer: new OpenAiSynthesizer(api),
        recognizer: new OpenAiRecognizer(api),
      };
    }
  }

  nameFor(tenantId: string): SpeechProviderName {
    const chosen = (this.config.audio.tenants[tenantId] ?? this.config.audio.provider) as
      'auto' | SpeechProviderName;
    if (chosen === 'auto') return this.remote ? 'openai' : 'local';
    return chosen;
  }

  synthesizer(tenantId: string): SpeechSynthesizer & { validate?: EspeakSynthesizer['validate'] } {
    return this.pick(tenantId).synthesizer;
  }

  recognizer(tenantId: string): SpeechRecognizer & {
    validate?: PocketsphinxRecognizer['validate'];
  } {
    return this.pick(tenantId).recognizer;
  }

  private pick(tenantId: string) {
    if (this.nameFor(tenantId) === 'local') return this.local;
    if (!this.remote)
      throw new ProviderUnavailableError(
        'The OpenAI-compatible speech provider is chosen but AUDIO_BASE_URL is not set.',
      );
    return this.remote;
  }

  private engineCheck?: { at: number; result: Promise<Record<string, unknown>> };

  /**
   * Which engines this machine has (health details; a missing one does not fail readiness),
   * looked up at most once a minute.
   */
  engines(): Promise<Record<string, unknown>> {
    if (!this.engineCheck || Date.now() - this.engineCheck.at > 60_000)
      this.engineCheck = { at: Date.now(), result: this.lookUpEngines() };
    return this.engineCheck.result;
  }

  private async lookUpEngines(): Promise<Record<string, unknown>> {
    const [espeak, pocketsphinx, ffmpeg] = await Promise.all([
      commandAvailable('espeak-ng', ['--version']),
      commandAvailable('pocketsphinx_continuous', ['-h']),
      commandAvailable('ffmpeg', ['-version']),
    ]);
    return {
      provider: this.config.audio.provider,
      local: { 'espeak-ng': espeak, pocketsphinx, ffmpeg },
      // Configured or not; the URL itself is not shown (it may carry credentials).
      openai: Boolean(this.remote),
    };
  }
}

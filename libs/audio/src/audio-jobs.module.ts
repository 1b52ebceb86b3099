import { Module, type OnModuleInit } from '@nestjs/common';
import { ReadinessRegistry } from '@parley/core';
import { ConversationCoreModule } from '@parley/conversation';
import { audioStorageProvider } from './adapters/audio-storage.provider';
import { AudioJobLifecycle } from './jobs/audio-job.lifecycle';
import { RetentionProcessor } from './jobs/retention.processor';
import { SpeechSteps } from './jobs/speech-steps.service';
import { SttProcessor } from './jobs/stt.processor';
import { TtsProcessor } from './jobs/tts.processor';
import { VoiceTurnProcessor } from './jobs/voice.processor';
import { AudioStorage } from './ports/audio-storage.port';
import { SpeechProviders } from './speech-providers.service';

/**
 * The speech jobs and what they need (engines, storage, the chat pipeline for voice turns),
 * for the api's in-process workers and apps/worker.
 */
@Module({
  imports: [ConversationCoreModule],
  providers: [
    audioStorageProvider,
    SpeechProviders,
    SpeechSteps,
    AudioJobLifecycle,
    TtsProcessor,
    SttProcessor,
    VoiceTurnProcessor,
    RetentionProcessor,
  ],
  exports: [AudioStorage, SpeechProviders, ConversationCoreModule],
})
export class AudioJobsModule implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessRegistry,
    private readonly providers: SpeechProviders,
  ) {}

  onModuleInit(): void {
    this.readiness.registerDetails('speech', () => this.providers.engines());
  }
}

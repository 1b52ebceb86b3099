import { Module, type OnApplicationBootstrap } from '@nestjs/common';
import { QueueService } from '@parley/queue';
import { AudioJobsModule } from './audio-jobs.module';
import { AudioController } from './controllers/audio.controller';
import { QueueBoard } from './controllers/queue-board.service';
import { QueuesAdminController } from './controllers/queues-admin.controller';
import { VoiceController } from './controllers/voice.controller';
import { AudioEvents } from './jobs/audio-events.service';
import { AudioJobsService } from './jobs/audio-jobs.service';
import { AudioUploads } from './jobs/audio-uploads.service';
import { LiveSpeech } from './voice/live-speech.service';
import { VoiceGateway } from './voice/voice.gateway';
import { VoiceMetrics } from './voice/voice.metrics';
import { VoiceSessionSlots } from './voice/voice-session-slots.service';

/** How often expired audio is swept. */
const RETENTION_EVERY_MS = 15 * 60_000;

/** Speech jobs over HTTP, their events over WebSocket, realtime voice sessions, the queue board. */
@Module({
  imports: [AudioJobsModule],
  controllers: [AudioController, VoiceController, QueuesAdminController],
  providers: [
    AudioJobsService,
    AudioUploads,
    AudioEvents,
    QueueBoard,
    VoiceGateway,
    LiveSpeech,
    VoiceSessionSlots,
    VoiceMetrics,
  ],
  exports: [AudioJobsService],
})
export class AudioModule implements OnApplicationBootstrap {
  constructor(private readonly queues: QueueService) {}

  async onApplicationBootstrap(): Promise<void> {
    // One schedule however many instances start: upserting it is idempotent.
    await this.queues.queue('audio.retention').upsertJobScheduler(
      'audio-retention',
      { every: RETENTION_EVERY_MS },
      {
        name: 'sweep',
        data: { kind: 'sweep' },
        opts: { removeOnComplete: 100, removeOnFail: 100 },
      },
    );
  }
}

import { Injectable } from '@nestjs/common';
import { ChatPipeline, ConversationsService, HISTORY_LIMIT } from '@parley/conversation';
import { type JobProcessor, type QueueJob, QueueProcessor, type QueueResults } from '@parley/queue';
import { AudioJobLifecycle } from './audio-job-lifecycle';
import { principalOf } from './job-subject';

/**
 * A voice turn's middle step: the transcript (kept on the job by the transcription step) goes
 * through the chat pipeline as the owner's message, like any typed one (guardrails, budgets,
 * retrieval, tools); the stored reply is kept on the job for the speech step.
 */
@Injectable()
@QueueProcessor('audio.voice')
export class VoiceTurnProcessor implements JobProcessor<'audio.voice'> {
  constructor(
    private readonly lifecycle: AudioJobLifecycle,
    private readonly conversations: ConversationsService,
    private readonly pipeline: ChatPipeline,
  ) {}

  async process(job: QueueJob<'audio.voice'>): Promise<QueueResults['audio.voice']> {
    const { audioJobId } = job.data;
    const row = await this.lifecycle.claim(job);
    if (!row) return { audioJobId, status: 'completed' };
    try {
      const transcript = (row.result?.transcript as { text: string } | undefined)?.text ?? '';
      // A retried step must not send the message twice: the reply it stored stands.
      if (!row.result?.reply) {
        const principal = principalOf(row);
        const { conversation, history, paused } = await this.conversations.getForTurn(
          principal,
          row.conversation_id!,
          HISTORY_LIMIT,
        );
        const turn = this.pipeline.run(
          {
            principal,
            conversation,
            content: transcript,
            requestId: `voice-${row.id}`,
            history,
            paused,
          },
          AbortSignal.timeout(10 * 60_000),
        );
        for await (const event of turn) {
          if (event.type !== 'done') continue;
          const a = event.assistantMessage;
          const reply = {
            userMessageId: event.userMessage.id,
            messageId: a.id,
            content: a.content,
            status: a.status,
            citations: a.citations,
            costUsd: a.costUsd,
          };
          await this.lifecycle.commit(this.lifecycle.stepWrites(row.id, { reply }, 66));
        }
      }
      await this.lifecycle.progress(job, 66);
      return { audioJobId, status: 'completed' };
    } catch (error) {
      return this.lifecycle.fail(job, error);
    }
  }
}

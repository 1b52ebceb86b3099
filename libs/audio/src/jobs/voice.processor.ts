import { Injectable } from '@nestjs/common';
import { ChatTurns, ConversationsService } from '@parley/conversation';
import { type JobProcessor, type QueueJob, QueueProcessor, type QueueResults } from '@parley/queue';
import { KeyRingCipher } from '@parley/core';
import { AudioJobLifecycle } from './audio-job.lifecycle';
import type { AudioJobRow } from './audio-jobs.service';
import { principalOf } from './job-subject';
import { openResult } from './audio-result-seal';

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
    private readonly turns: ChatTurns,
    private readonly cipher: KeyRingCipher,
  ) {}

  /** The turn this step stored on an earlier attempt, if any. */
  private async storedTurn(row: AudioJobRow): Promise<Record<string, unknown> | undefined> {
    const turn = await this.conversations.turnByRequest(
      row.tenant_id,
      row.conversation_id!,
      requestIdOf(row),
    );
    if (!turn) return undefined;
    const answer = turn.assistantMessage;
    return {
      userMessageId: turn.userMessage.id,
      messageId: answer.id,
      content: answer.content,
      status: answer.status,
      citations: answer.citations,
      costUsd: answer.costUsd,
    };
  }

  async process(
    job: QueueJob<'audio.voice'>,
    signal: AbortSignal,
  ): Promise<QueueResults['audio.voice']> {
    return this.lifecycle.run(job, signal, async (row) => {
      const result = openResult(this.cipher, row, row.result);
      const transcript = (result?.transcript as { text: string } | undefined)?.text ?? '';
      // A retried step must not send the message twice: a reply stored on the job, or a turn
      // already stored in the conversation (cut off before the job heard of it), stands.
      const stored = row.result?.reply ? undefined : await this.storedTurn(row);
      if (stored)
        await this.lifecycle.commit(this.lifecycle.stepWrites(row, { reply: stored }, 66));
      else if (!row.result?.reply) {
        const turn = this.turns.send(
          principalOf(row),
          row.conversation_id!,
          { content: transcript, requestId: requestIdOf(row) },
          signal,
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
          await this.lifecycle.commit(this.lifecycle.stepWrites(row, { reply }, 66));
        }
      }
      await this.lifecycle.progress(job, 66);
    });
  }
}

/** The request id a voice turn's chat step stores its messages under. */
const requestIdOf = (row: AudioJobRow) => `voice-${row.id}`;

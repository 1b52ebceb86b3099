import type { Logger } from '@nestjs/common';
import { GuardrailBlockedError } from '@parley/guardrails';
import {
  CallerAbortedError,
  type ChatStreamEvent,
  type FinishReason,
  type Responder,
  type TokenUsage,
} from '@parley/llm';
import type { MessageStatus } from '../entities/message.entity';

/** What a turn collects from the model's events as they pass. */
export interface Answer {
  responder?: Responder;
  text: string;
  usage?: TokenUsage;
  finishReason: FinishReason;
  firstTokenMs: number | null;
  status: MessageStatus;
}

export const emptyAnswer = (): Answer => ({
  text: '',
  finishReason: 'stop',
  firstTokenMs: null,
  status: 'complete',
});

/** Passes the answer's events on, collecting what the turn stores. */
export async function* relay(
  events: AsyncIterable<ChatStreamEvent>,
  answer: Answer,
  started: number,
): AsyncGenerator<Extract<ChatStreamEvent, { type: 'start' | 'delta' }>> {
  for await (const event of events) {
    if (event.type === 'start') {
      answer.responder = event.responder;
      yield event;
    } else if (event.type === 'delta') {
      answer.firstTokenMs ??= Date.now() - started;
      answer.text += event.text;
      yield event;
    } else if (event.type === 'done') {
      answer.usage = event.usage;
      answer.finishReason = event.finishReason;
    }
    // A conversation turn sends no tools, so the model cannot call any here.
  }
}

/** Marks an answer cut off by `error` the way it is stored: aborted, or failed and why. */
export function cutOff(answer: Answer, error: unknown, logger: Logger, conversationId: string) {
  if (error instanceof CallerAbortedError) {
    answer.status = 'aborted';
    answer.finishReason = 'aborted';
  } else if (error instanceof GuardrailBlockedError) {
    answer.status = 'failed';
    answer.finishReason = 'content_filter';
  } else {
    logger.warn(
      `turn in conversation ${conversationId} failed mid-stream: ${(error as Error).message}`,
    );
    answer.status = 'failed';
    answer.finishReason = 'error';
  }
}

/** The ledger's word for how a stored answer ended. */
export const endingStatus = (status: MessageStatus): 'complete' | 'aborted' | 'failed' =>
  status === 'complete' ? 'complete' : status === 'aborted' ? 'aborted' : 'failed';

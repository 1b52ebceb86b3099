import { AppError } from '@parley/core';

export class MessageTooLongError extends AppError {
  /** `field` names the message when a request carries several (`messages.3.content`). */
  constructor(limit: number, field?: string) {
    super(
      'MESSAGE_TOO_LONG',
      400,
      `${field ? `${field} is` : 'The message is'} longer than ${limit} characters (CHAT_MAX_MESSAGE_CHARS); shorten it or split it.`,
      field
        ? { extensions: { errors: [{ field, messages: [`at most ${limit} characters`] }] } }
        : {},
    );
  }
}

export class PromptTooLargeError extends AppError {
  constructor(tokens: number, budget: number) {
    super(
      'PROMPT_TOO_LARGE',
      400,
      `The message needs about ${tokens} tokens, more than the ${budget} the conversation memory allows.`,
    );
  }
}

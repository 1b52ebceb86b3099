import { AppError } from '@parley/core';

export class MessageTooLongError extends AppError {
  constructor(limit: number) {
    super(
      'MESSAGE_TOO_LONG',
      400,
      `The message is longer than ${limit} characters; shorten it or split it.`,
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

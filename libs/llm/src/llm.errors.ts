import { AppError } from '@parley/core';

export class UnknownModelError extends AppError {
  constructor(model: string, known: string[]) {
    super(
      'UNKNOWN_MODEL',
      400,
      `There is no model or alias "${model}". Known: ${known.join(', ') || 'none configured'}.`,
    );
  }
}

/** The provider refused the request itself (a 4xx other than 408/429): retrying would not help. */
export class LlmRequestRejectedError extends AppError {
  constructor(provider: string, status: number) {
    super(
      'LLM_REQUEST_REJECTED',
      502,
      `The model provider "${provider}" rejected the request (HTTP ${status}). Check the model name, the message sizes and max tokens.`,
      { extensions: { provider, upstreamStatus: status } },
    );
  }
}

/** The stream went silent after its first token; it was cut, so the answer is partial. */
export class LlmStreamStalledError extends AppError {
  constructor(provider: string, idleMs: number) {
    super(
      'LLM_UNAVAILABLE',
      504,
      `The model provider "${provider}" sent nothing for ${idleMs} ms in the middle of the answer, so it was cut off.`,
      { extensions: { provider } },
    );
  }
}

/** The stream broke after tokens had been sent; it is not retried, so the answer is partial. */
export class LlmStreamInterruptedError extends AppError {
  constructor(provider: string) {
    super(
      'LLM_UNAVAILABLE',
      502,
      `The model provider "${provider}" stopped in the middle of the answer.`,
      {
        extensions: { provider },
      },
    );
  }
}

/**
 * The caller went away; neither a retry nor a breaker failure. If it reaches the error filter
 * (a JSON answer whose client disconnected), it is nginx's 499, logged at info: not a 5xx that
 * would count against the error rate.
 */
export class CallerAbortedError extends AppError {
  constructor() {
    super(
      'CLIENT_CLOSED_REQUEST',
      499,
      'The client closed the request before the answer was complete.',
      {
        logLevel: 'info',
      },
    );
  }
}

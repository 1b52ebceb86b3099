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

/** Approving a high-risk tool call takes a person: an API key may reject a call, never approve one. */
export class ApprovalByApiKeyError extends AppError {
  constructor() {
    super(
      'TOOL_APPROVAL_BY_API_KEY',
      403,
      'API keys cannot approve tool calls: a person must, logged in with their own account, and not the one who asked for the call. An API key may still reject it.',
    );
  }
}

/**
 * A high-risk call is approved by another person than the one whose turn asked for it (for a
 * turn sent with an API key: than the key's creator). Rejecting one's own call is allowed.
 */
export class SelfApprovalError extends AppError {
  constructor(how: 'user' | 'own-key' | 'unknown-key') {
    const why = {
      user: 'You asked for this call',
      'own-key': 'This call was asked for with an API key you created',
      'unknown-key':
        'The API key that asked for this call is no longer valid (revoked, expired or its creator disabled), so Parley cannot tell that you are not the person behind it, and',
    }[how];
    super(
      'TOOL_SELF_APPROVAL',
      403,
      how === 'unknown-key'
        ? `${why} the call can only be rejected now; send the message again with a valid credential.`
        : `${why}, so another person must approve it: a tenant admin, or the conversation's owner if that is someone else. You may still reject it.`,
    );
  }
}

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

/** A WebSocket message before the connection's `ready` event. */
export class SocketNotReadyError extends AppError {
  constructor() {
    super('NOT_READY', 400, 'Wait for the ready event before sending.');
  }
}

/** A WebSocket turn whose requestId is already running on the connection. */
export class TurnAlreadyRunningError extends AppError {
  constructor(requestId: string) {
    super('CONFLICT', 409, `A turn with requestId ${requestId} is already running.`);
  }
}

/** A WebSocket message with invalid fields, each named with what is wrong. */
export class InvalidSocketMessageError extends AppError {
  constructor(errors: { field: string; messages: string[] }[]) {
    super('VALIDATION_FAILED', 400, 'The message has invalid fields.', { extensions: { errors } });
  }
}

export class ApprovalExpiredError extends AppError {
  constructor(callId: string, ttlSeconds: number) {
    super(
      'TOOL_APPROVAL_EXPIRED',
      409,
      `The call ${callId} waited longer than ${ttlSeconds} s for a decision; the answer ended without it. Send the message again.`,
    );
  }
}

export class ApprovalAlreadyDecidedError extends AppError {
  constructor(callId: string, status: string) {
    super(
      'TOOL_APPROVAL_DECIDED',
      409,
      `The call ${callId} was already ${status}; a decision cannot be changed.`,
    );
  }
}

/** A new message while an earlier answer of the conversation waits for approvals. */
export class ApprovalPendingError extends AppError {
  constructor(conversationId: string, messageId: string, expiresAt: Date) {
    super(
      'TOOL_APPROVAL_PENDING',
      409,
      `The previous answer (message ${messageId}) waits for tool calls to be approved or rejected: ` +
        `decide them with POST /v1/conversations/${conversationId}/tool-approvals/{callId} ` +
        `(GET …/tool-approvals lists them), or wait until ${expiresAt.toISOString()}.`,
      { extensions: { messageId } },
    );
  }
}

/** Template variables that the template does not declare, or required ones that are missing. */
export class InvalidTemplateVariablesError extends AppError {
  constructor(problems: string[]) {
    super('VALIDATION_FAILED', 400, problems.join('; '), {
      extensions: { errors: [{ field: 'templateVariables', messages: problems }] },
    });
  }
}

export class UnknownPromptTemplateError extends AppError {
  constructor(name: string, known: string[]) {
    super(
      'UNKNOWN_PROMPT_TEMPLATE',
      400,
      `There is no prompt template "${name}". Known: ${known.join(', ') || 'none'}.`,
    );
  }
}

export class InvalidIdempotencyKeyError extends AppError {
  constructor() {
    super('BAD_REQUEST', 400, 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
  }
}

/** With metadata.conversation_id, the last message is the user's new one. */
export class LastMessageNotUserError extends AppError {
  constructor() {
    super(
      'BAD_REQUEST',
      400,
      'With metadata.conversation_id the last message must be the user’s new message.',
    );
  }
}

export class IdempotencyConflictError extends AppError {
  constructor() {
    super(
      'IDEMPOTENCY_IN_PROGRESS',
      409,
      'A request with this Idempotency-Key is still being processed; retry shortly.',
      { headers: { 'retry-after': '1' } },
    );
  }
}

export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      422,
      'This Idempotency-Key was used for a different request; use a new key for a new request.',
    );
  }
}

/** No embedding model is configured (EMBEDDING_MODEL), so /v1/embeddings cannot answer. */
export class EmbeddingsUnavailableError extends AppError {
  constructor() {
    super(
      'EMBEDDINGS_UNAVAILABLE',
      503,
      'No embedding model is configured: set EMBEDDING_MODEL (and a provider that serves it).',
    );
  }
}

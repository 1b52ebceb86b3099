import { AppError } from './app-error';

export interface FieldError {
  /** Dotted path of the offending field, e.g. `items.0.name`. */
  field: string;
  messages: string[];
}

export class ValidationFailedError extends AppError {
  constructor(readonly errors: FieldError[]) {
    super(
      'VALIDATION_FAILED',
      400,
      errors.length === 1
        ? `The request has an invalid field: ${errors[0]!.field}.`
        : `The request has ${errors.length} invalid fields.`,
      { extensions: { errors } },
    );
  }

  /** One field wrong, with one message saying what to fix. */
  static field(field: string, message: string): ValidationFailedError {
    return new ValidationFailedError([{ field, messages: [message] }]);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super('NOT_FOUND', 404, `${what} was not found.`);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes?: number) {
    super(
      'PAYLOAD_TOO_LARGE',
      413,
      limitBytes
        ? `The request body is larger than the limit of ${limitBytes} bytes.`
        : 'The request body is too large.',
    );
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super('UNSUPPORTED_MEDIA_TYPE', 415, message);
  }
}

/** A JSON body nested deeper than any request needs: refused before anything walks it. */
export class JsonTooDeepError extends AppError {
  constructor(maxDepth: number) {
    super(
      'JSON_TOO_DEEP',
      400,
      `The JSON body nests objects or arrays more than ${maxDepth} levels deep; flatten it.`,
    );
  }
}

export class NotReadyError extends AppError {
  constructor(checks: Record<string, unknown>, failing: string[]) {
    super('NOT_READY', 503, `Not ready: ${failing.join(', ')} unavailable.`, {
      extensions: { checks },
      logLevel: 'warn',
    });
  }
}

export class InternalError extends AppError {
  constructor() {
    super(
      'INTERNAL_ERROR',
      500,
      'An unexpected error occurred. Quote the requestId when reporting it.',
    );
  }
}

import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { AppError } from './app-error';
import { InternalError, PayloadTooLargeError } from './core.errors';
import { fromDependencyError } from './dependency-errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem details, with Parley's stable `code` and the `requestId`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  requestId: string;
  [extension: string]: unknown;
}

/** Codes for the HTTP errors that Nest and Fastify raise themselves. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** What to tell the caller about Fastify's own client errors, by Fastify's error code. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'This content type is not supported here; send application/json.',
  FST_ERR_CTP_EMPTY_JSON_BODY:
    'The body is empty but the content type says JSON; send a JSON body or no content type.',
  FST_ERR_BAD_URL: 'The URL is not valid (a malformed percent-encoding in its path).',
  FST_ERR_MAX_PARAM_LENGTH: 'A segment of the URL path is too long; ids are UUIDs.',
};

/** Fastify's own client errors (routing, body parsing and limits) that must stay 4xx. */
function fromFastifyError(error: unknown): AppError | undefined {
  const e = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e?.code !== 'string' || !e.code.startsWith('FST_')) return undefined;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return new PayloadTooLargeError();
  if (status >= 400 && status < 500) {
    const message =
      FASTIFY_MESSAGES[e.code] ?? 'The request body could not be parsed; send valid JSON.';
    return new AppError(CODE_BY_STATUS[status] ?? 'BAD_REQUEST', status, message);
  }
  return undefined;
}

function fromHttpException(error: HttpException): AppError {
  const status = error.getStatus();
  const response = error.getResponse();
  const message =
    typeof response === 'object' && response !== null && 'message' in response
      ? (response as { message: unknown }).message
      : response;
  const text = Array.isArray(message) ? message.join('; ') : String(message);
  if (status >= 500) return new InternalError();
  return new AppError(CODE_BY_STATUS[status] ?? `HTTP_${status}`, status, text);
}

/** Maps anything thrown to the AppError that describes it to the caller. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HttpException) return fromHttpException(error);
  return fromFastifyError(error) ?? fromDependencyError(error) ?? new InternalError();
}

export function toProblem(error: AppError, requestId: string, instance?: string): ProblemDetails {
  return {
    ...error.extensions,
    type: `urn:parley:problem:${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: STATUS_CODES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    code: error.code,
    requestId,
  };
}

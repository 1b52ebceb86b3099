import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { OPENAI_ERRORS } from '../http/public.decorator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from './app-error';
import { PROBLEM_CONTENT_TYPE, toAppError, toProblem } from './problem-details';

/**
 * The one exception filter: every error leaves as `application/problem+json` with a stable
 * code and the request id, and without stack traces or internal messages.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = toAppError(exception);
    if (error.status >= 500) {
      this.logger.error({ err: loggableError(exception), code: error.code }, 'request failed');
    } else {
      this.logger[error.logLevel === 'error' ? 'error' : 'debug']?.(
        { code: error.code, status: error.status },
        error.message,
      );
    }
    if (reply.sent) return;
    const openAi = Boolean(
      (request.routeOptions?.config as unknown as Record<string, unknown> | undefined)?.[
        OPENAI_ERRORS
      ],
    );
    sendProblem(request, reply, error, openAi);
  }
}

/**
 * Sends `error` as problem details. The filter uses it, and so does the Fastify adapter for the
 * errors it raises before any route (and so any filter) is found, e.g. a path segment too long.
 */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: AppError,
  openAi = false,
): void {
  const path = request.url?.split('?')[0];
  const problem = toProblem(error, String(request.id), path);
  reply
    .status(error.status)
    .headers(error.headers)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(
      openAi
        ? {
            ...problem,
            error: {
              message: error.message,
              type: error.code.toLowerCase(),
              code: error.code,
              param: null,
            },
          }
        : problem,
    );
}

/**
 * What of an unexpected error goes to the log: its type, message and stack, but not the extra
 * properties some libraries attach (TypeORM puts the query parameters there, which can hold
 * hashes or personal data).
 */
function loggableError(exception: unknown): Record<string, unknown> {
  if (!(exception instanceof Error)) return { message: String(exception) };
  const code = (exception as { code?: unknown }).code;
  return {
    type: exception.name,
    message: exception.message,
    stack: exception.stack,
    ...(typeof code === 'string' ? { code } : {}),
  };
}

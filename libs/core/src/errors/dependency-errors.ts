import { AppError } from './app-error';

/** A dependency (the database, Redis) could not be reached for this request: retry shortly. */
export class DependencyUnavailableError extends AppError {
  constructor(which: 'database' | 'a backing service') {
    super(
      which === 'database' ? 'DATABASE_UNAVAILABLE' : 'DEPENDENCY_UNAVAILABLE',
      503,
      `The request could not be completed because ${which === 'database' ? 'the database' : 'a backing service'} is unreachable right now; nothing was changed by the part that failed. Try again shortly.`,
      { headers: { 'retry-after': '5' }, logLevel: 'warn' },
    );
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);
/** PostgreSQL SQLSTATEs of a lost or refused connection (class 08, shutdown, overload). */
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;
const PG_DRIVER_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/**
 * An outage of the database or Redis seen as a thrown error (pg, TypeORM's QueryFailedError
 * wrapping it, or a socket error), mapped to 503 instead of a 500 that blames the request.
 */
export function fromDependencyError(error: unknown): AppError | undefined {
  const e = error as { code?: unknown; message?: unknown; driverError?: { code?: unknown } };
  if (!e || typeof e !== 'object') return undefined;
  const code = typeof e.driverError?.code === 'string' ? e.driverError.code : e.code;
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof code === 'string' && PG_UNAVAILABLE.test(code))
    return new DependencyUnavailableError('database');
  if (PG_DRIVER_MESSAGES.test(message)) return new DependencyUnavailableError('database');
  if (typeof code === 'string' && NETWORK_CODES.has(code))
    return new DependencyUnavailableError('a backing service');
  return undefined;
}

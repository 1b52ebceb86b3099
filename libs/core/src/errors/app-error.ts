export type ErrorLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface AppErrorOptions {
  /** Extra members of the problem details body, e.g. `{ errors: [...] }`. Never internals. */
  extensions?: Record<string, unknown>;
  /** Response headers that go with the error, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  logLevel?: ErrorLogLevel;
  cause?: unknown;
}

/**
 * The base of every error Parley reports on purpose. Each lib subclasses it in
 * `<lib>.errors.ts` with a stable `code`; the global problem filter turns it into RFC 9457
 * problem details. The message is shown to the caller, so it must say what to fix.
 */
export class AppError extends Error {
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly logLevel: ErrorLogLevel;

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
    this.logLevel = options.logLevel ?? (status >= 500 ? 'error' : 'info');
  }
}

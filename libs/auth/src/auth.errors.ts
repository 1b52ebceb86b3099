import { AppError } from '@parley/core';

export class InvalidCredentialsError extends AppError {
  constructor() {
    super('INVALID_CREDENTIALS', 401, 'The email, password or tenant is wrong.');
  }
}

export class UnauthenticatedError extends AppError {
  constructor(
    detail = 'Send an access token or API key in the Authorization header (Bearer) or X-API-Key.',
  ) {
    super('UNAUTHENTICATED', 401, detail, { headers: { 'www-authenticate': 'Bearer' } });
  }
}

export class InvalidTokenError extends AppError {
  constructor(detail = 'The access token is invalid or expired; log in again or refresh it.') {
    super('INVALID_TOKEN', 401, detail, {
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    });
  }
}

export class InvalidApiKeyError extends AppError {
  constructor() {
    super('INVALID_API_KEY', 401, 'The API key is unknown, revoked or expired.');
  }
}

export class RefreshTokenInvalidError extends AppError {
  constructor() {
    super('REFRESH_TOKEN_INVALID', 401, 'The refresh token is unknown or expired; log in again.');
  }
}

export class RefreshTokenReusedError extends AppError {
  constructor() {
    super(
      'REFRESH_TOKEN_REUSED',
      401,
      'This refresh token was already used. The session has been revoked as a precaution; log in again.',
      { logLevel: 'warn' },
    );
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = 'You are not allowed to do this.') {
    super('FORBIDDEN', 403, detail);
  }
}

/**
 * A cookie-authenticated call (refresh or logout with the session cookie) from a page of another
 * origin, or with no Origin header: refused, so another site cannot use a browser's session.
 */
export class OriginNotAllowedError extends AppError {
  constructor() {
    super(
      'ORIGIN_NOT_ALLOWED',
      403,
      'Requests that use the session cookie must come from a page of this server (the Origin header names another site, or is missing).',
    );
  }
}

/** What an admin API key may not do: only a person logged in as an admin may. */
export class InteractiveSessionRequiredError extends AppError {
  constructor(action: string) {
    super(
      'INTERACTIVE_SESSION_REQUIRED',
      403,
      `API keys cannot ${action}; use an interactive admin session (log in and send the access token).`,
    );
  }
}

/** A superadmin's account is changed only by a superadmin, never by a tenant admin or a key. */
export class SuperadminProtectedError extends AppError {
  constructor() {
    super(
      'SUPERADMIN_PROTECTED',
      403,
      'This user is a superadmin: only a superadmin may change their role, status or name.',
    );
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, detail = 'Too many requests; try again later.') {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super('RATE_LIMITED', 429, `${detail} Retry after ${seconds} s.`, {
      headers: { 'retry-after': String(seconds) },
      extensions: { retryAfterSeconds: seconds },
    });
  }
}

export class WeakPasswordError extends AppError {
  constructor(reason: string) {
    super('WEAK_PASSWORD', 400, reason, {
      extensions: { errors: [{ field: 'password', messages: [reason] }] },
    });
  }
}

export class ConflictError extends AppError {
  constructor(detail: string) {
    super('CONFLICT', 409, detail);
  }
}

import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** An API error, from its problem+json body (RFC 9457): what the console shows people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** Field errors of VALIDATION_FAILED: `[{field, messages}]`. */
    readonly fieldErrors: { field: string; messages: string[] }[] = [],
    readonly requestId?: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }

  static from(response: Response, body: unknown): ApiError {
    const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    const detail =
      typeof problem.detail === 'string'
        ? problem.detail
        : `The server answered ${response.status} ${response.statusText}.`;
    const errors = Array.isArray(problem.errors)
      ? (problem.errors as { field: string; messages: string[] }[])
      : [];
    return new ApiError(
      response.status,
      typeof problem.code === 'string' ? problem.code : 'HTTP_ERROR',
      detail,
      errors,
      typeof problem.requestId === 'string' ? problem.requestId : undefined,
    );
  }
}

/**
 * How the client authenticates. The session module plugs in: the access token (kept in memory
 * only) and a single-flight refresh that uses the httpOnly session cookie.
 */
export interface Credentials {
  accessToken(): string | null;
  /** Gets a new access token; false when the session is over. */
  refresh(): Promise<boolean>;
}

let credentials: Credentials = { accessToken: () => null, refresh: async () => false };

export function setCredentials(next: Credentials): void {
  credentials = next;
}

const AUTH_ROUTES = /\/v1\/auth\/(login|refresh|logout)$/;

/**
 * fetch with the bearer token; on a 401 from any route but the session routes, refreshes once
 * (with the cookie) and sends the request again.
 */
async function authorizedFetch(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (AUTH_ROUTES.test(path)) return fetch(request);
  const retry = request.clone();
  const response = await fetch(withToken(request));
  if (response.status !== 401) return response;
  if (!(await credentials.refresh())) return response;
  return fetch(withToken(retry));
}

/**
 * A call the typed client cannot make (a streamed answer): plain fetch with the same bearer token
 * and the same one refresh on a 401.
 */
export function authorizedRequest(path: string, init: RequestInit): Promise<Response> {
  return authorizedFetch(new Request(new URL(path, window.location.origin), init));
}

function withToken(request: Request): Request {
  const token = credentials.accessToken();
  if (token) request.headers.set('authorization', `Bearer ${token}`);
  return request;
}

/** The typed API client (types generated from docs/openapi.json: npm run console:types). */
export const api = createClient<paths>({
  baseUrl: window.location.origin,
  fetch: authorizedFetch,
});

/** The data of a response, or its problem details thrown as an ApiError. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw ApiError.from(response, error);
  return data as T;
}

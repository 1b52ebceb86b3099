import type {} from '@fastify/cookie';
import { Injectable } from '@nestjs/common';
import { AppConfig, SESSION_COOKIE_NAME } from '@parley/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OriginNotAllowedError } from '../auth.errors';

/** The cookie that carries a browser session's refresh token (the console's). */
export const SESSION_COOKIE = SESSION_COOKIE_NAME;
/** The cookie is sent to the auth routes only (refresh, logout), never to the rest of the API. */
export const SESSION_COOKIE_PATH = '/v1/auth';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Refresh tokens of browser sessions, kept where no script can read them: an httpOnly,
 * `SameSite=Strict` cookie scoped to the auth routes, `Secure` except on plain-http localhost.
 * Requests that use it must come from a page of this origin (or a configured CORS origin).
 */
@Injectable()
export class SessionCookie {
  constructor(private readonly config: AppConfig) {}

  read(request: FastifyRequest): string | undefined {
    const value = request.cookies?.[SESSION_COOKIE];
    return value ? value : undefined;
  }

  set(request: FastifyRequest, reply: FastifyReply, refreshToken: string): void {
    reply.setCookie(SESSION_COOKIE, refreshToken, {
      ...this.attributes(request),
      maxAge: this.config.security.jwt.refreshTtlSeconds,
    });
  }

  clear(request: FastifyRequest, reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, this.attributes(request));
  }

  /**
   * The cross-site request check for cookie-authenticated calls: the `Origin` header must name
   * this server (the host the request was sent to) or one of the configured CORS origins.
   */
  assertSameOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (!origin || origin === 'null') throw new OriginNotAllowedError();
    if (this.config.server.corsOrigins.includes(origin)) return;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new OriginNotAllowedError();
    }
    let own: string | undefined;
    try {
      // Parsed with the origin's scheme so default ports (:443, :80) compare equal.
      own = new URL(`${url.protocol}//${request.host}`).host;
    } catch {
      own = undefined;
    }
    if (own === undefined || url.host !== own) throw new OriginNotAllowedError();
  }

  private attributes(request: FastifyRequest) {
    const local = request.protocol === 'http' && LOCAL_HOSTS.has(request.hostname);
    return {
      path: SESSION_COOKIE_PATH,
      httpOnly: true,
      sameSite: 'strict' as const,
      secure: !local,
    };
  }
}

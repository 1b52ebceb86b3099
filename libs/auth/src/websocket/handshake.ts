import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError, UnauthenticatedError } from '../auth.errors';
import { readCredential } from '../guards/credentials';
import { PrincipalResolver } from '../guards/principal.resolver';
import type { Principal } from '../principal';

/** The subprotocol that announces a credential: `Sec-WebSocket-Protocol: parley.bearer, <token>`. */
export const BEARER_SUBPROTOCOL = 'parley.bearer';

/**
 * Authenticates a WebSocket upgrade with the same tokens and keys as HTTP: from the
 * Authorization or X-API-Key header, or (for browsers, which cannot set headers on a WebSocket)
 * from the subprotocol list. Never from the URL. A browser's Origin must be on the CORS allowlist.
 * Returns the principal, and the subprotocol to echo so the browser accepts the connection.
 */
@Injectable()
export class WebSocketHandshake {
  constructor(
    private readonly resolver: PrincipalResolver,
    private readonly config: AppConfig,
  ) {}

  async authenticate(
    request: IncomingMessage,
  ): Promise<{ principal: Principal; protocol?: string }> {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.config.server.corsOrigins.includes(origin)) {
      throw new ForbiddenError(`Origin ${origin} may not open a WebSocket here.`);
    }
    const fromHeaders = readCredential(request.headers);
    if (fromHeaders) return { principal: await this.resolver.resolve(fromHeaders) };
    const protocols = String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const at = protocols.indexOf(BEARER_SUBPROTOCOL);
    const token = at >= 0 ? protocols[at + 1] : undefined;
    const credential = token ? readCredential({ authorization: `Bearer ${token}` }) : undefined;
    if (!credential) throw new UnauthenticatedError();
    return { principal: await this.resolver.resolve(credential), protocol: BEARER_SUBPROTOCOL };
  }
}

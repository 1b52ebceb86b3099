import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError, UnauthenticatedError } from '../auth.errors';
import { type Credential, readCredential } from '../guards/credentials';
import { PrincipalResolver } from '../guards/principal.resolver';
import type { Principal } from '../principal';

/** The subprotocol that announces a credential: `Sec-WebSocket-Protocol: parley.bearer, <token>`. */
export const BEARER_SUBPROTOCOL = 'parley.bearer';

/** What a socket keeps of its handshake, to check its caller again later. */
export interface SocketAuth {
  principal: Principal;
  /** The subprotocol to echo so the browser accepts the connection. */
  protocol?: string;
  credential: Credential;
  /** When an access token expires (ms since the epoch); API keys have no such moment here. */
  expiresAt?: number;
}

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

  async authenticate(request: IncomingMessage): Promise<SocketAuth> {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.config.server.corsOrigins.includes(origin)) {
      throw new ForbiddenError(`Origin ${origin} may not open a WebSocket here.`);
    }
    const fromHeaders = readCredential(request.headers);
    if (fromHeaders) return this.resolve(fromHeaders);
    const protocols = String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const at = protocols.indexOf(BEARER_SUBPROTOCOL);
    const token = at >= 0 ? protocols[at + 1] : undefined;
    const credential = token ? readCredential({ authorization: `Bearer ${token}` }) : undefined;
    if (!credential) throw new UnauthenticatedError();
    return { ...(await this.resolve(credential)), protocol: BEARER_SUBPROTOCOL };
  }

  /**
   * The caller of an open socket as it stands now: a disabled user, a revoked key or an expired
   * token fails (401) as on HTTP, and a changed role or scope comes back changed. Sockets call
   * it for every message (chat) or turn (voice), not only at the handshake.
   */
  recheck(credential: Credential): Promise<Principal> {
    return this.resolver.resolve(credential);
  }

  private async resolve(credential: Credential): Promise<SocketAuth> {
    const principal = await this.resolver.resolve(credential);
    return { principal, credential, expiresAt: tokenExpiry(credential) };
  }
}

/** The `exp` of an access token that the resolver has just verified, in milliseconds. */
function tokenExpiry(credential: Credential): number | undefined {
  if (credential.kind !== 'jwt') return undefined;
  const payload = credential.token.split('.')[1] ?? '';
  const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown })
    .exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
}

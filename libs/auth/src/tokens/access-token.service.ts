import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '@parley/core';
import { randomUUID } from 'node:crypto';
import { InvalidTokenError } from '../auth.errors';
import { AuthSecrets } from './auth-secrets.service';

/** The claims Parley puts in an access token. Role and status are re-read on every request. */
export interface AccessTokenClaims {
  sub: string;
  tid: string;
  iat: number;
  /** Issue time in milliseconds, compared with the user's tokens_valid_after. */
  iat_ms: number;
  exp: number;
  jti: string;
}

const ALGORITHM = 'HS256' as const;

/**
 * Short-lived JWTs: HS256 pinned (no `none`, no RS/HS confusion), `kid` in the header so keys
 * rotate, and `iss`, `aud`, `exp`, `iat` and `jti` always checked.
 */
@Injectable()
export class AccessTokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly secrets: AuthSecrets,
    private readonly config: AppConfig,
  ) {}

  get ttlSeconds(): number {
    return this.config.security.jwt.accessTtlSeconds;
  }

  sign(user: { id: string; tenantId: string }): Promise<string> {
    const key = this.secrets.signingKey();
    const { issuer, audience } = this.config.security.jwt;
    return this.jwt.signAsync(
      { tid: user.tenantId, iat_ms: Date.now() },
      {
        secret: key.secret,
        algorithm: ALGORITHM,
        keyid: key.kid,
        issuer,
        audience,
        subject: user.id,
        jwtid: randomUUID(),
        expiresIn: this.ttlSeconds,
      },
    );
  }

  async verify(token: string): Promise<AccessTokenClaims> {
    const decoded = this.jwt.decode<{ header?: { kid?: unknown; alg?: unknown } } | null>(token, {
      complete: true,
    });
    const kid = decoded?.header?.kid;
    const key = typeof kid === 'string' ? this.secrets.verificationKey(kid) : undefined;
    if (!key || decoded?.header?.alg !== ALGORITHM) throw new InvalidTokenError();
    const { issuer, audience } = this.config.security.jwt;
    try {
      const claims = await this.jwt.verifyAsync<AccessTokenClaims>(token, {
        secret: key.secret,
        algorithms: [ALGORITHM],
        issuer,
        audience,
      });
      if (!claims.sub || !claims.tid || !claims.jti || !claims.iat) throw new InvalidTokenError();
      return claims;
    } catch {
      throw new InvalidTokenError();
    }
  }
}

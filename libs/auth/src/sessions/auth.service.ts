import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { RequestContext } from '@parley/core';
import type { Repository } from 'typeorm';
import { InvalidCredentialsError } from '../auth.errors';
import { AuditService } from '../audit/audit.service';
import { UserEntity } from '../entities/user.entity';
import { TenantsService } from '../admin/tenants.service';
import { PasswordHasher } from '../passwords/password.hasher';
import { AccessTokenService } from '../tokens/access-token.service';
import { LoginThrottle } from './login-throttle.service';
import { RefreshTokenService } from './refresh-token.service';

export const DEFAULT_TENANT = 'default';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

@Injectable()
export class AuthService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly tenants: TenantsService,
    private readonly hasher: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly context: RequestContext,
  ) {}

  /**
   * Wrong tenant, wrong email, wrong password and a disabled account all answer the same
   * INVALID_CREDENTIALS, after the same argon2 work.
   */
  async login(input: { email: string; password: string; tenant?: string }): Promise<TokenPair> {
    const slug = (input.tenant ?? DEFAULT_TENANT).toLowerCase();
    const account = `${slug}:${input.email.trim().toLowerCase()}`;
    const ip = this.context.meta().ip;
    await this.throttle.assertAllowed(account, ip);

    const tenant = await this.tenants.findBySlug(slug);
    const user = tenant
      ? await this.users
          .createQueryBuilder('u')
          .addSelect('u.passwordHash')
          .where('u.tenant_id = :tenantId AND lower(u.email) = lower(:email)', {
            tenantId: tenant.id,
            email: input.email.trim(),
          })
          .getOne()
      : null;
    const passwordOk = await this.hasher.verify(user?.passwordHash, input.password);
    if (!user || !passwordOk || user.disabled) {
      const lockedMs = await this.throttle.recordFailure(account, ip);
      await this.audit.record('auth.login.failed', {
        tenantId: tenant?.id ?? null,
        targetType: user ? 'user' : undefined,
        targetId: user?.id,
        metadata: {
          reason: !user ? 'unknown_account' : user.disabled ? 'disabled' : 'wrong_password',
          ...(lockedMs ? { lockedSeconds: Math.ceil(lockedMs / 1000) } : {}),
        },
      });
      throw new InvalidCredentialsError();
    }

    await this.throttle.recordSuccess(account);
    const changes: Partial<UserEntity> = { lastLoginAt: new Date() };
    if (this.hasher.needsRehash(user.passwordHash))
      changes.passwordHash = await this.hasher.hash(input.password);
    await this.users.update({ id: user.id }, changes);
    const pair = await this.issue(user);
    await this.audit.record('auth.login.succeeded', {
      tenantId: user.tenantId,
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
    });
    return pair;
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const { userId, tenantId, next } = await this.refreshTokens.rotate(refreshToken);
    return {
      accessToken: await this.accessTokens.sign({ id: userId, tenantId }),
      refreshToken: next.token,
      expiresIn: this.accessTokens.ttlSeconds,
      tokenType: 'Bearer',
    };
  }

  async logout(refreshToken: string): Promise<void> {
    const session = await this.refreshTokens.revoke(refreshToken);
    if (session) {
      await this.audit.record('auth.logout', {
        tenantId: session.tenantId,
        actorUserId: session.userId,
        targetType: 'user',
        targetId: session.userId,
      });
    }
  }

  private async issue(user: { id: string; tenantId: string }): Promise<TokenPair> {
    const [accessToken, refresh] = await Promise.all([
      this.accessTokens.sign(user),
      this.refreshTokens.issue(user),
    ]);
    return {
      accessToken,
      refreshToken: refresh.token,
      expiresIn: this.accessTokens.ttlSeconds,
      tokenType: 'Bearer',
    };
  }
}

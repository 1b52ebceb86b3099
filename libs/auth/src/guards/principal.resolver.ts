import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { SCOPES } from '../auth.constants';
import { InvalidTokenError } from '../auth.errors';
import { ApiKeyService } from '../api-keys/api-key.service';
import { UserEntity } from '../entities/user.entity';
import type { Principal } from '../principal';
import { AccessTokenService } from '../tokens/access-token.service';
import type { Credential } from './credentials';

/**
 * Turns a credential into a principal. A user's role, status and `tokens_valid_after` are read
 * on every request (one primary-key read), so a change takes effect on the very next request.
 */
@Injectable()
export class PrincipalResolver {
  constructor(
    private readonly tokens: AccessTokenService,
    private readonly apiKeys: ApiKeyService,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  async resolve(credential: Credential): Promise<Principal> {
    if (credential.kind === 'apiKey') return this.apiKeys.authenticate(credential.key);
    const claims = await this.tokens.verify(credential.token);
    const user = await this.users.findOne({ where: { id: claims.sub, tenantId: claims.tid } });
    const issuedAtMs = typeof claims.iat_ms === 'number' ? claims.iat_ms : claims.iat * 1000;
    if (!user || user.disabled || issuedAtMs < user.tokensValidAfter.getTime()) {
      throw new InvalidTokenError('The access token is no longer valid; log in again.');
    }
    return {
      kind: 'user',
      tenantId: user.tenantId,
      userId: user.id,
      role: user.role,
      // A user acts with every scope their role allows; routes check the role itself.
      scopes: [...SCOPES],
      superadmin: user.superadmin,
    };
  }
}

import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { type Role, SCOPES } from '../auth.constants';
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
    // Plain SQL: this runs on every request made with an access token.
    const rows: { role: Role; superadmin: boolean; disabled: boolean; tokens_valid_after: Date }[] =
      await this.users.query(
        'SELECT role, superadmin, disabled, tokens_valid_after FROM users WHERE id = $1 AND tenant_id = $2',
        [claims.sub, claims.tid],
      );
    const user = rows[0];
    const issuedAtMs = typeof claims.iat_ms === 'number' ? claims.iat_ms : claims.iat * 1000;
    if (!user || user.disabled || issuedAtMs < new Date(user.tokens_valid_after).getTime()) {
      throw new InvalidTokenError('The access token is no longer valid; log in again.');
    }
    return {
      kind: 'user',
      tenantId: claims.tid,
      userId: claims.sub,
      role: user.role,
      // A user acts with every scope their role allows; routes check the role itself.
      scopes: [...SCOPES],
      superadmin: user.superadmin,
    };
  }
}

import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { DataSource } from 'typeorm';
import { generatedSecret } from './generated-secrets';

export interface SigningKey {
  kid: string;
  secret: string;
}

/**
 * The JWT signing keys (the first signs, all verify) and the API-key pepper: from the
 * environment when configured, otherwise generated once and kept in the database.
 */
@Injectable()
export class AuthSecrets implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  signingKeys: SigningKey[];
  apiKeyPepper: string;

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    const { jwt, apiKeys } = this.config.security;
    const generated: string[] = [];
    if (jwt.signingKeys.length > 0) {
      this.signingKeys = jwt.signingKeys;
    } else {
      this.signingKeys = [
        {
          kid: 'generated-1',
          secret: await generatedSecret(this.dataSource, 'auth.jwt.generated-key'),
        },
      ];
      generated.push('JWT_SIGNING_KEYS');
    }
    if (apiKeys.pepper) {
      this.apiKeyPepper = apiKeys.pepper;
    } else {
      this.apiKeyPepper = await generatedSecret(this.dataSource, 'auth.api-keys.generated-pepper');
      generated.push('API_KEY_PEPPER');
    }
    if (generated.length > 0 && this.config.mode === 'services') {
      this.logger.warn(
        `${generated.join(' and ')} not set: using secrets generated into the database. Set them from your secret store in production.`,
      );
    }
  }

  signingKey(): SigningKey {
    return this.signingKeys[0]!;
  }

  verificationKey(kid: string): SigningKey | undefined {
    return this.signingKeys.find((k) => k.kid === kid);
  }
}

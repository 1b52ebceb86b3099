import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TenantsService } from '../admin/tenants.service';
import { DEFAULT_TENANT } from '../sessions/auth.service';

const MARKER = 'auth.bootstrapped';

/**
 * On the first start with an empty database: the `default` tenant and a superadmin, from
 * BOOTSTRAP_ADMIN_EMAIL/PASSWORD or with a generated password printed once. A marker row makes
 * sure it never happens again, even if every tenant is later deleted.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Bootstrap');

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly tenants: TenantsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const claimed: unknown[] = await this.dataSource.query(
      `INSERT INTO system_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`,
      [MARKER, JSON.stringify({ at: new Date().toISOString() })],
    );
    if (claimed.length === 0) return;
    if ((await this.tenants.count()) > 0) return;
    const { adminEmail, adminPassword } = this.config.security.bootstrap;
    const email = adminEmail ?? 'admin@parley.local';
    const password = adminPassword ?? randomBytes(18).toString('base64url');
    try {
      await this.tenants.create({
        name: DEFAULT_TENANT,
        displayName: 'Default',
        adminEmail: email,
        adminPassword: password,
        adminName: 'Administrator',
        superadmin: true,
      });
    } catch (error) {
      // Let the next start try again rather than leave an installation nobody can log in to.
      await this.dataSource.query('DELETE FROM system_settings WHERE key = $1', [MARKER]);
      throw error;
    }
    if (adminPassword) {
      this.logger.log(
        `created the default tenant and superadmin ${email} (password from BOOTSTRAP_ADMIN_PASSWORD)`,
      );
      return;
    }
    // Printed once, on purpose: it is the only way in to a fresh installation.
    const banner = [
      '',
      '='.repeat(72),
      '  Parley: first start. A superadmin was created in tenant "default":',
      `    email:    ${email}`,
      `    password: ${password}`,
      '  This is shown only once. Log in with POST /v1/auth/login and change it.',
      '='.repeat(72),
      '',
    ].join('\n');
    process.stdout.write(`${banner}\n`);
  }
}

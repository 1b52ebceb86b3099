import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, loadConfig } from '@parley/core';
import { createApiApp } from '../../apps/api/src/bootstrap';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  database: TestDatabase;
  /** Closes the app and drops its database. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment variables, applied over the test environment. */
  env?: Record<string, string>;
  /** Extra modules, e.g. a test-only controller. */
  imports?: ModuleMetadata['imports'];
  /** Reuse a database (e.g. to restart on the same data). */
  database?: TestDatabase;
}

/** The superadmin every test installation is bootstrapped with. */
export const ROOT = { email: 'root@parley.test', password: 'root-password-for-tests-only' };
/** A known signing key, so tests can forge tokens the way an attacker would try to. */
export const TEST_JWT_KEY = {
  kid: 'test-1',
  secret: 'test-signing-secret-that-is-long-enough-0123456789',
};

/**
 * The token /metrics asks for in test installations (without one the main port serves no
 * metrics), and the header a scrape sends.
 */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';
export const METRICS_AUTH = { authorization: `Bearer ${TEST_METRICS_TOKEN}` };

/** The environment of a test process: APP_ENV=test plus the machine's DATABASE_URL/REDIS_URL. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    APP_ENV: 'test',
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BOOTSTRAP_ADMIN_EMAIL: ROOT.email,
    BOOTSTRAP_ADMIN_PASSWORD: ROOT.password,
    JWT_SIGNING_KEYS: `${TEST_JWT_KEY.kid}:${TEST_JWT_KEY.secret}`,
    API_KEY_PEPPER: 'test-pepper-that-is-long-enough-0123456789',
    METRICS_TOKEN: TEST_METRICS_TOKEN,
  };
  if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
  return { ...env, ...extra };
}

/**
 * Boots the real api application (the same bootstrap as `npm start`) on its own database,
 * ready for `app.inject()` requests.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database =
    options.database ?? (await createTestDatabase({ migratedWith: (db) => testEnv(db) }));
  const config = loadConfig({ env: testEnv({ ...database.env, ...options.env }), isTty: false });
  const app = await createApiApp(config, { imports: options.imports });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    config,
    database,
    close: async () => {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}

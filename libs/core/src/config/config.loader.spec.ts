import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.loader';

const REPO_CONFIG = join(__dirname, '..', '..', '..', '..', 'config');

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (env: NodeJS.ProcessEnv = {}, configDir = REPO_CONFIG) =>
    loadConfig({ env, configDir, isTty: false });

  it('gives the shipped defaults: embedded mode on port 3000, migrations and workers in process', () => {
    const config = load();
    expect(config.mode).toBe('embedded');
    expect(config.server).toMatchObject({
      host: '0.0.0.0',
      port: 3000,
      corsOrigins: [],
      trustProxy: false,
    });
    expect(config.database.migrateOnBoot).toBe(true);
    expect(config.queue).toMatchObject({ workersInProcess: true, backend: 'postgres' });
    expect(config.log.format).toBe('json');
  });

  it('switches to services mode with DATABASE_URL and to Redis queues with REDIS_URL', () => {
    const config = load({
      DATABASE_URL: 'postgres://u:p@db:5432/parley',
      REDIS_URL: 'redis://cache:6379',
    });
    expect(config.mode).toBe('services');
    expect(config.database.migrateOnBoot).toBe(false);
    expect(config.queue).toMatchObject({ workersInProcess: false, backend: 'redis' });
  });

  it('overlays config/<APP_ENV>.yaml on default.yaml, and the environment on both', () => {
    const base = load();
    const fromTestYaml = load({ APP_ENV: 'test' });
    expect(base.server.port).toBe(3000);
    expect(fromTestYaml.server.port).toBe(0);
    expect(fromTestYaml.server.corsOrigins).toEqual(['https://allowed.example']);
    const fromEnv = load({
      APP_ENV: 'test',
      PORT: '8080',
      CORS_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(fromEnv.server.port).toBe(8080);
    expect(fromEnv.server.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('parses booleans and trust-proxy lists from strings', () => {
    expect(load({ DATABASE_SSL: 'true' }).database.ssl.enabled).toBe(true);
    expect(load({ DATABASE_SSL: '0' }).database.ssl.enabled).toBe(false);
    expect(load({ TRUST_PROXY: 'true' }).server.trustProxy).toBe(true);
    expect(load({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).server.trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ]);
  });

  it('serves /docs by default, except with APP_ENV=production unless DOCS_ENABLED says so', () => {
    expect(load().server.docs).toBe(true);
    expect(load({ APP_ENV: 'test' }).server.docs).toBe(true);
    expect(load({ APP_ENV: 'production' }).server.docs).toBe(false);
    expect(load({ APP_ENV: 'production', DOCS_ENABLED: 'true' }).server.docs).toBe(true);
    expect(load({ DOCS_ENABLED: 'false' }).server.docs).toBe(false);
    expect(load({ DOCS_ENABLED: 'auto' }).server.docs).toBe(true);
    expect(() => load({ DOCS_ENABLED: 'maybe' })).toThrow(
      /server\.docs \(env DOCS_ENABLED\): expected true, false or auto/,
    );
  });

  it('reads secrets from <NAME>_FILE, without the trailing newline', () => {
    const file = join(dir, 'db-url');
    writeFileSync(file, 'postgres://u:s3cret@db/parley\n');
    expect(load({ DATABASE_URL_FILE: file }).database.url).toBe('postgres://u:s3cret@db/parley');
  });

  it('refuses NAME and NAME_FILE together, and an unreadable file', () => {
    expect(() => load({ DATABASE_URL: 'postgres://a/b', DATABASE_URL_FILE: '/x' })).toThrow(
      /database\.url \(env DATABASE_URL\): both DATABASE_URL and DATABASE_URL_FILE are set/,
    );
    expect(() => load({ REDIS_URL_FILE: join(dir, 'missing') })).toThrow(
      /redis\.url \(env REDIS_URL_FILE\): cannot read .*ENOENT/,
    );
  });

  it('refuses secrets written in YAML', () => {
    writeFileSync(join(dir, 'default.yaml'), 'database:\n  url: postgres://u:p@db/x\n');
    expect(() => load({}, dir)).toThrow(
      /database\.url: is a secret and may not be set in YAML; set DATABASE_URL/,
    );
  });

  it('names unknown keys, bad values and bad YAML', () => {
    writeFileSync(join(dir, 'default.yaml'), 'server:\n  prot: 3000\n');
    expect(() => load({}, dir)).toThrow(ConfigError);
    expect(() => load({ PORT: '70000' })).toThrow(
      /server\.port \(env PORT\): expected a whole number between 0 and 65535/,
    );
    expect(() => load({ LOG_FORMAT: 'xml' })).toThrow(/log\.format \(env LOG_FORMAT\)/);
    expect(() => load({ REDIS_URL: 'http://cache' })).toThrow(
      /redis\.url \(env REDIS_URL\): expected a URL starting with redis:\/\//,
    );
    writeFileSync(join(dir, 'default.yaml'), 'server: [unclosed\n');
    expect(() => load({}, dir)).toThrow(/is not valid YAML/);
  });

  it('names an unknown key in a namespace of an overlay file', () => {
    copyFileSync(join(REPO_CONFIG, 'default.yaml'), join(dir, 'default.yaml'));
    writeFileSync(join(dir, 'staging.yaml'), 'queue:\n  concurency: 3\n');
    expect(() => load({ APP_ENV: 'staging' }, dir)).toThrow(
      /Invalid configuration: queue: unknown key concurency/,
    );
  });

  it('puts the embedded data directory under the working directory unless absolute', () => {
    expect(load().database.embedded.dataDir).toBe(join(process.cwd(), 'data', 'pglite'));
    expect(load({ PGLITE_DATA_DIR: '/var/lib/parley' }).database.embedded.dataDir).toBe(
      '/var/lib/parley',
    );
  });
});

import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, serveConsole, withStyleNonce } from '@parley/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** serveConsole on a bare Fastify server: what /console answers, without booting Parley. */
describe('serving the console (serveConsole)', () => {
  let dir: string;
  let fastify: FastifyInstance;

  const app = () =>
    ({
      getHttpAdapter: () => ({ getInstance: () => fastify }),
      register: (plugin: never, options: never) => fastify.register(plugin, options),
    }) as unknown as NestFastifyApplication;
  const config = (enabled: boolean) => ({ console: { enabled } }) as AppConfig;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<meta property="csp-nonce" nonce="PARLEY_CSP_NONCE"><script type="module" src="/console/assets/index-abc123.js" nonce="PARLEY_CSP_NONCE"></script>',
    );
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    fastify = Fastify();
    // As helmet does for every response.
    fastify.addHook('onRequest', async (_request, reply) => {
      reply.header('content-security-policy', "default-src 'self';style-src 'self'");
    });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await fastify.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html for /console and deep links, with a fresh nonce in the CSP', async () => {
    expect(await serveConsole(app(), config(true), dir)).toBe(true);
    const nonces = new Set<string>();
    for (const url of ['/console', '/console/', '/console/api-keys', '/console/a/b?c=d']) {
      const res = await fastify.inject({ method: 'GET', url });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 200 });
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(
        String(res.headers['content-security-policy']),
      )![1]!;
      expect(res.headers['content-security-policy']).toBe(
        `default-src 'self';style-src 'self' 'nonce-${nonce}'`,
      );
      expect(res.body).toContain(`<meta property="csp-nonce" nonce="${nonce}">`);
      expect(res.body).not.toContain('PARLEY_CSP_NONCE');
      nonces.add(nonce);
    }
    expect(nonces.size).toBe(4);
  });

  it('serves hashed assets with a year-long immutable cache; a missing one is a 404 problem', async () => {
    await serveConsole(app(), config(true), dir);
    const asset = await fastify.inject({ method: 'GET', url: '/console/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await fastify.inject({ method: 'GET', url: '/console/assets/gone-999.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves nothing when CONSOLE_ENABLED is false', async () => {
    expect(await serveConsole(app(), config(false), dir)).toBe(false);
    expect((await fastify.inject({ method: 'GET', url: '/console/' })).statusCode).toBe(404);
  });

  it('logs once and serves nothing when the console is not built', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      expect(await serveConsole(app(), config(true), join(dir, 'nowhere'))).toBe(false);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/not built.*npm run build/);
      expect((await fastify.inject({ method: 'GET', url: '/console/' })).statusCode).toBe(404);
    } finally {
      warn.mockRestore();
    }
  });

  it('adds the nonce to a policy without style-src as a copy of default-src', () => {
    expect(withStyleNonce("default-src 'self'; img-src data:", 'abc')).toBe(
      "default-src 'self';img-src data:;style-src 'self' 'nonce-abc'",
    );
  });
});

import { createTestApp, type TestApp } from '../support/test-app';

describe('CORS follows the configured allowlist', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { CORS_ORIGINS: 'https://console.example.com, https://admin.example.com' },
    });
  });
  afterAll(() => t?.close());

  it('gives an allowed origin the CORS headers, on simple and preflight requests', async () => {
    const simple = await t.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { origin: 'https://admin.example.com' },
    });
    expect(simple.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    expect(simple.headers['access-control-expose-headers']).toContain('x-request-id');
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/health/live',
      headers: { origin: 'https://console.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://console.example.com');
  });

  it('gives any other origin no CORS headers at all', async () => {
    for (const origin of [
      'https://evil.example.com',
      'null',
      'https://console.example.com.evil.io',
    ]) {
      const res = await t.app.inject({ method: 'GET', url: '/health/live', headers: { origin } });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/health/live',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

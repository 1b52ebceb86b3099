import { createTestApp, type TestApp } from '../support/test-app';

describe('OpenAPI document', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('serves the document at /docs/openapi.json with bearer and API key security schemes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Parley API');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.apiKey).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
    });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health/live', '/health/ready']),
    );
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});

describe('OpenAPI document in production', () => {
  it('is off with APP_ENV=production unless DOCS_ENABLED turns it on', async () => {
    const env = { APP_ENV: 'production', LOG_LEVEL: 'warn' };
    const off = await createTestApp({ env });
    try {
      for (const url of ['/docs', '/docs/openapi.json', '/docs/openapi.yaml'])
        expect({ url, status: (await off.app.inject({ method: 'GET', url })).statusCode }).toEqual({
          url,
          status: 404,
        });
    } finally {
      await off.close();
    }
    const on = await createTestApp({ env: { ...env, DOCS_ENABLED: 'true' } });
    try {
      expect((await on.app.inject({ method: 'GET', url: '/docs/openapi.json' })).statusCode).toBe(
        200,
      );
    } finally {
      await on.close();
    }
  });
});

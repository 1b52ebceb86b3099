import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { REPO_ROOT } from '../support/spawned-process';
import { createTestApp, type TestApp } from '../support/test-app';

/** Where two JSON values differ: one `path: what` line per added, removed or changed value. */
function jsonDifferences(committed: unknown, served: unknown, path = '$'): string[] {
  if (isDeepStrictEqual(committed, served)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(committed) && isObject(served))
    return [...new Set([...Object.keys(committed), ...Object.keys(served)])].flatMap((key) => {
      const at = `${path}.${key}`;
      if (!(key in served)) return [`${at}: gone from the served document`];
      if (!(key in committed)) return [`${at}: new in the served document`];
      return jsonDifferences(committed[key], served[key], at);
    });
  return [`${path}: changed`];
}

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

  it('is the committed docs/openapi.json, so every API change shows in review', async () => {
    const served: unknown = (
      await t.app.inject({ method: 'GET', url: '/docs/openapi.json' })
    ).json();
    const committed: unknown = JSON.parse(
      readFileSync(join(REPO_ROOT, 'docs', 'openapi.json'), 'utf8'),
    );
    const differences = jsonDifferences(committed, served);
    if (differences.length > 0)
      throw new Error(
        `docs/openapi.json is not the document the api serves: run \`npm run openapi\` and commit ` +
          `the file. ${differences.length} difference(s):\n  ${differences.slice(0, 20).join('\n  ')}`,
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

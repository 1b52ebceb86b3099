import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTenant, createUser, type TestTenant } from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';

const CLAIM_TOOL = {
  name: 'get_claim_status',
  description: 'The status of an insurance claim.',
  parameters: {
    type: 'object',
    properties: { claimId: { type: 'string', pattern: '^C-[0-9]+$' } },
    required: ['claimId'],
    additionalProperties: false,
  },
  http: {
    method: 'GET',
    url: 'https://api.claims.example/claims/{claimId}',
    headers: { accept: 'application/json' },
  },
  secretHeaders: { authorization: 'Bearer sk-claims-secret' },
  risk: 'low',
  idempotent: true,
};

describe('tool definitions: /v1/admin/tools and /v1/admin/tool-settings', () => {
  let t: TestApp;
  let db: DataSource;
  let tenant: TestTenant;

  beforeAll(async () => {
    t = await createTestApp({
      env: { MESSAGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}` },
    });
    db = t.app.get(DataSource);
    tenant = await createTenant(t.app);
    const hosts = await tenant.admin.client.put('/v1/admin/tool-settings', {
      allowedHosts: ['api.claims.example', '*.bookings.example', 'API.Claims.Example.'],
    });
    expect(hosts.status).toBe(200);
    expect(hosts.body.allowedHosts).toEqual(['api.claims.example', '*.bookings.example']);
  });
  afterAll(() => t?.close());

  it('defines a tool, keeps its secret headers sealed, and audits the change', async () => {
    const res = await tenant.admin.client.post('/v1/admin/tools', CLAIM_TOOL);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'get_claim_status',
      kind: 'http',
      risk: 'low',
      idempotent: true,
      timeoutMs: 10000,
      maxResponseBytes: 65536,
      enabled: true,
      http: {
        method: 'GET',
        url: 'https://api.claims.example/claims/{claimId}',
        headers: { accept: 'application/json' },
        secretHeaderNames: ['authorization'],
      },
    });
    expect(JSON.stringify(res.body)).not.toContain('sk-claims-secret');
    const [row]: { secret_headers: string }[] = await db.query(
      `SELECT secret_headers FROM tools WHERE id = $1`,
      [res.body.id],
    );
    expect(row!.secret_headers).toMatch(/^enc:v1:k1:/);
    expect(row!.secret_headers).not.toContain('sk-claims-secret');
    const audit = await tenant.admin.client.get('/v1/admin/audit-logs?action=tool.created');
    expect(audit.body.items[0]).toMatchObject({
      targetId: res.body.id,
      metadata: { name: 'get_claim_status' },
    });
    expect(JSON.stringify(audit.body)).not.toContain('sk-claims-secret');

    const list = await tenant.admin.client.get('/v1/admin/tools');
    expect(list.body.items.map((i: { name: string }) => i.name)).toContain('get_claim_status');
    expect((await tenant.admin.client.post('/v1/admin/tools', CLAIM_TOOL)).status).toBe(409);
  });

  it('updates and deletes, auditing each', async () => {
    const created = await tenant.admin.client.post('/v1/admin/tools', {
      ...CLAIM_TOOL,
      name: 'book_room',
      http: { method: 'POST', url: 'https://eu.bookings.example/rooms' },
      parameters: { type: 'object', properties: { nights: { type: 'integer' } } },
      secretHeaders: undefined,
    });
    expect(created.status).toBe(201);
    const patched = await tenant.admin.client.patch(`/v1/admin/tools/${created.body.id}`, {
      risk: 'high',
      timeoutMs: 2000,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ risk: 'high', timeoutMs: 2000, name: 'book_room' });
    expect((await tenant.admin.client.delete(`/v1/admin/tools/${created.body.id}`)).status).toBe(
      204,
    );
    expect((await tenant.admin.client.get(`/v1/admin/tools/${created.body.id}`)).status).toBe(404);
    const actions = (await tenant.admin.client.get('/v1/admin/audit-logs?limit=20')).body.items.map(
      (i: { action: string }) => i.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['tool.updated', 'tool.deleted', 'tool.settings_updated']),
    );
  });

  it('says what is wrong with a definition', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...CLAIM_TOOL, name: 'current_time' }, 'name', /built-in/],
      [{ ...CLAIM_TOOL, name: 'x1', parameters: { type: 'string' } }, 'parameters', /type.*object/],
      [
        {
          ...CLAIM_TOOL,
          name: 'x2',
          parameters: { type: 'object', properties: { a: { type: 'strnig' } } },
        },
        'parameters',
        /not a valid JSON Schema/,
      ],
      [
        { ...CLAIM_TOOL, name: 'x3', http: { method: 'GET', url: 'https://evil.example/steal' } },
        'http.url',
        /not on your tenant's allowed hosts/,
      ],
      [
        { ...CLAIM_TOOL, name: 'x4', http: { method: 'GET', url: 'https://{host}/claims' } },
        'http.url',
        /never in the host/,
      ],
      [
        {
          ...CLAIM_TOOL,
          name: 'x5',
          http: { method: 'GET', url: 'https://api.claims.example/{nope}' },
        },
        'http.url',
        /not a property/,
      ],
      [
        { ...CLAIM_TOOL, name: 'x6', http: { method: 'GET', url: 'ftp://api.claims.example/' } },
        'http.url',
        /https:\/\//,
      ],
      [
        {
          ...CLAIM_TOOL,
          name: 'x7',
          http: { method: 'GET', url: 'https://u:p@api.claims.example/' },
        },
        'http.url',
        /credentials/,
      ],
      [
        {
          ...CLAIM_TOOL,
          name: 'x8',
          http: { method: 'TRACE', url: 'https://api.claims.example/' },
        },
        'http.method',
        /method/,
      ],
      [{ ...CLAIM_TOOL, name: 'bad name' }, 'name', /letters, digits/],
    ];
    for (const [body, field, message] of cases) {
      const res = await tenant.admin.client.post('/v1/admin/tools', body);
      expect({ field, status: res.status }).toEqual({ field, status: 400 });
      const error = res.body.errors.find((e: { field: string }) => e.field === field);
      expect({ field, messages: error?.messages.join(' ') }).toEqual({
        field,
        messages: expect.stringMatching(message),
      });
    }
    const badHosts = await tenant.admin.client.put('/v1/admin/tool-settings', {
      allowedHosts: ['not a host'],
    });
    expect(badHosts.status).toBe(400);
  });

  it('refuses secret headers on a server without an encryption key', async () => {
    const plain = await createTestApp();
    try {
      const other = await createTenant(plain.app);
      await other.admin.client.put('/v1/admin/tool-settings', {
        allowedHosts: ['api.claims.example'],
      });
      const res = await other.admin.client.post('/v1/admin/tools', CLAIM_TOOL);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('MESSAGE_ENCRYPTION_KEYS');
      const { secretHeaders: _secret, ...withoutSecrets } = CLAIM_TOOL;
      expect((await other.admin.client.post('/v1/admin/tools', withoutSecrets)).status).toBe(201);
    } finally {
      await plain.close();
    }
  });

  it('is for tenant admins only, and keeps tenants apart', async () => {
    const member = await createUser(tenant);
    expect((await member.client.get('/v1/admin/tools')).status).toBe(403);
    expect((await member.client.post('/v1/admin/tools', CLAIM_TOOL)).status).toBe(403);
    const mine = (await tenant.admin.client.get('/v1/admin/tools')).body.items[0];
    const other = await createTenant(t.app);
    expect((await other.admin.client.get(`/v1/admin/tools/${mine.id}`)).status).toBe(404);
    expect(
      (await other.admin.client.patch(`/v1/admin/tools/${mine.id}`, { risk: 'high' })).status,
    ).toBe(404);
    expect((await other.admin.client.delete(`/v1/admin/tools/${mine.id}`)).status).toBe(404);
    expect((await other.admin.client.get('/v1/admin/tools')).body.items).toEqual([]);
    expect((await other.admin.client.get('/v1/admin/tool-settings')).body.allowedHosts).toEqual([]);
  });
});

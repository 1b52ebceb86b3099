import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  type TestTenant,
} from '../support/identity';
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
    expect(row!.secret_headers).toMatch(/^enc:v2:k1:/);
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
          name: 'x9',
          http: { method: 'GET', url: 'https://api.claims.example/public/../admin/{claimId}' },
        },
        'http.url',
        /"\." or "\.\." segments/,
      ],
      [
        {
          ...CLAIM_TOOL,
          name: 'x10',
          http: { method: 'GET', url: 'https://api.claims.example/public/%2E%2e/{claimId}' },
        },
        'http.url',
        /"\." or "\.\." segments/,
      ],
      [
        {
          ...CLAIM_TOOL,
          name: 'x11',
          http: { method: 'GET', url: 'https://api.claims.example/public\\..\\{claimId}' },
        },
        'http.url',
        /backslashes/,
      ],
      [{ ...CLAIM_TOOL, name: 'x12', enableRoles: ['owner'] }, 'enableRoles', /must be one of/],
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

  it('makes tools that are not GET high risk unless a person says otherwise; only admins enable by default', async () => {
    const base = {
      ...CLAIM_TOOL,
      secretHeaders: undefined,
      risk: undefined,
      parameters: { type: 'object', properties: {} },
      http: { method: 'GET', url: 'https://api.claims.example/claims' },
    };
    const read = await tenant.admin.client.post('/v1/admin/tools', { ...base, name: 'r_read' });
    expect(read.body).toMatchObject({ risk: 'low', enableRoles: ['admin'] });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await tenant.admin.client.post('/v1/admin/tools', {
        ...base,
        name: `r_${method.toLowerCase()}`,
        http: { method, url: 'https://api.claims.example/claims' },
      });
      expect({ method, status: res.status, risk: res.body.risk }).toEqual({
        method,
        status: 201,
        risk: 'high',
      });
    }
    // A person (an admin, logged in) may say a write is low risk, explicitly…
    const write = { ...base, http: { method: 'POST', url: 'https://api.claims.example/claims' } };
    const low = await tenant.admin.client.post('/v1/admin/tools', {
      ...write,
      name: 'r_low_write',
      risk: 'low',
      enableRoles: ['member'],
    });
    expect(low.status).toBe(201);
    expect(low.body).toMatchObject({ risk: 'low', enableRoles: ['admin', 'member'] });
    const audit = await tenant.admin.client.get('/v1/admin/audit-logs?action=tool.created');
    expect(audit.body.items[0]).toMatchObject({
      targetId: low.body.id,
      metadata: { risk: 'low', enableRoles: ['admin', 'member'] },
    });
    // … an admin API key may not (it would run writes without anyone's approval).
    const adminKey = new Client(t.app, (await createApiKey(tenant.admin.client, ['admin'])).key);
    const byKey = await adminKey.post('/v1/admin/tools', { ...write, name: 'r_key', risk: 'low' });
    expect(byKey.status).toBe(403);
    expect(byKey.body.code).toBe('INTERACTIVE_SESSION_REQUIRED');
    expect(byKey.body.detail).toMatch(/POST as low risk/);
    const keyDefault = await adminKey.post('/v1/admin/tools', { ...write, name: 'r_key' });
    expect(keyDefault.body.risk).toBe('high');
    expect(
      (await adminKey.patch(`/v1/admin/tools/${keyDefault.body.id}`, { risk: 'low' })).body.code,
    ).toBe('INTERACTIVE_SESSION_REQUIRED');
    // A GET turned into a write without a risk becomes high; the risk is never lowered implicitly.
    const moved = await tenant.admin.client.patch(`/v1/admin/tools/${read.body.id}`, {
      http: { method: 'DELETE', url: 'https://api.claims.example/claims' },
    });
    expect(moved.body).toMatchObject({ risk: 'high', http: { method: 'DELETE' } });
    const back = await tenant.admin.client.patch(`/v1/admin/tools/${read.body.id}`, {
      http: { method: 'GET', url: 'https://api.claims.example/claims' },
    });
    expect(back.body.risk).toBe('high');
  });

  it('drops secret headers when the URL moves to another host, until an admin enters them again', async () => {
    const created = await tenant.admin.client.post('/v1/admin/tools', {
      ...CLAIM_TOOL,
      name: 'moving_tool',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const sealed = async () =>
      (
        (await db.query(`SELECT secret_headers FROM tools WHERE id = $1`, [id])) as {
          secret_headers: string | null;
        }[]
      )[0]!.secret_headers;
    // Same origin, another path: the secrets stay.
    const samehost = await tenant.admin.client.patch(`/v1/admin/tools/${id}`, {
      http: { method: 'GET', url: 'https://api.claims.example/v2/claims/{claimId}' },
    });
    expect(samehost.status).toBe(200);
    expect(samehost.body).toMatchObject({
      secretHeadersCleared: false,
      http: { secretHeaderNames: ['authorization'] },
    });
    expect(await sealed()).not.toBeNull();
    // Another host: the secrets were meant for the old one, so they go, and the answer says so.
    const moved = await tenant.admin.client.patch(`/v1/admin/tools/${id}`, {
      http: { method: 'GET', url: 'https://eu.bookings.example/claims/{claimId}' },
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      secretHeadersCleared: true,
      http: { url: 'https://eu.bookings.example/claims/{claimId}', secretHeaderNames: [] },
    });
    expect(await sealed()).toBeNull();
    expect((await tenant.admin.client.get(`/v1/admin/tools/${id}`)).body.http).toMatchObject({
      secretHeaderNames: [],
    });
    const audit = await tenant.admin.client.get('/v1/admin/audit-logs?action=tool.updated');
    expect(audit.body.items[0]).toMatchObject({
      targetId: id,
      metadata: { secretHeadersCleared: true },
    });
    // An admin enters them again, for the new host.
    const again = await tenant.admin.client.patch(`/v1/admin/tools/${id}`, {
      secretHeaders: { authorization: 'Bearer sk-bookings' },
    });
    expect(again.body).toMatchObject({
      secretHeadersCleared: false,
      http: { secretHeaderNames: ['authorization'] },
    });
    // A move that brings its own secret headers keeps those.
    const withNew = await tenant.admin.client.patch(`/v1/admin/tools/${id}`, {
      http: { method: 'GET', url: 'https://api.claims.example/claims/{claimId}' },
      secretHeaders: { 'x-api-key': 'sk-claims-2' },
    });
    expect(withNew.body).toMatchObject({
      secretHeadersCleared: false,
      http: { secretHeaderNames: ['x-api-key'] },
    });
    expect(JSON.stringify([moved.body, again.body, withNew.body])).not.toMatch(/sk-/);
  });

  it('documents the rules in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    const schemas = doc.components.schemas;
    expect(schemas.ToolDto.properties.enableRoles).toMatchObject({ type: 'array' });
    expect(schemas.CreateToolDto.properties.enableRoles.description).toMatch(
      /TOOL_ENABLE_FORBIDDEN/,
    );
    expect(schemas.CreateToolDto.properties.risk.description).toMatch(/`high` for POST/);
    expect(schemas.UpdatedToolDto.properties.secretHeadersCleared).toMatchObject({
      type: 'boolean',
    });
    const patch = doc.paths['/v1/admin/tools/{id}'].patch;
    expect(JSON.stringify(patch.responses['200'])).toContain('UpdatedToolDto');
    expect(patch.responses['403'].description).toMatch(/INTERACTIVE_SESSION_REQUIRED/);
    const decide = doc.paths['/v1/conversations/{id}/tool-approvals/{callId}'].post;
    expect(decide.responses['403'].description).toMatch(
      /TOOL_APPROVAL_BY_API_KEY.*TOOL_SELF_APPROVAL/,
    );
    expect(doc.paths['/v1/conversations'].post.responses['403'].description).toMatch(
      /TOOL_ENABLE_FORBIDDEN/,
    );
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

import { DataSource } from 'typeorm';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';

describe('API keys', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let member: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { API_KEY_ROTATION_GRACE_SECONDS: '60' } });
    tenant = await createTenant(t.app);
    member = await createUser(tenant);
  });
  afterAll(() => t?.close());

  it('creates a key, returns the secret once, and stores only its HMAC and prefix', async () => {
    const res = await member.client.post('/v1/api-keys', {
      name: 'support bot',
      scopes: ['chat', 'rag:read'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'support bot',
      scopes: ['chat', 'rag:read'],
      createdBy: member.id,
      expiresAt: null,
    });
    expect(res.body.key).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);

    const rows = await t.app
      .get(DataSource)
      .query('SELECT * FROM api_keys WHERE id = $1', [res.body.id]);
    expect(JSON.stringify(rows)).not.toContain(res.body.key);
    expect(rows[0].secret_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const list = await member.client.get('/v1/api-keys');
    expect(list.status).toBe(200);
    expect(list.raw).not.toContain(res.body.key);
    expect(list.raw).not.toMatch(/secret|hash/i);
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(res.body.id);
  });

  it('authenticates with Authorization: Bearer and with X-API-Key', async () => {
    const { key, id } = await createApiKey(member.client, ['chat']);
    const viaBearer = await new Client(t.app, key).get('/v1/auth/me');
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body).toEqual({
      kind: 'apiKey',
      tenantId: tenant.id,
      apiKeyId: id,
      scopes: ['chat'],
      superadmin: false,
    });
    const viaHeader = await new Client(t.app).get('/v1/auth/me', { 'x-api-key': key });
    expect(viaHeader.status).toBe(200);
  });

  it('refuses what the key has no scope for (403), and routes keys may never call', async () => {
    const { key } = await createApiKey(tenant.admin.client, ['chat']);
    const admin = await new Client(t.app, key).get('/v1/admin/users');
    expect(admin.status).toBe(403);
    expect(admin.body.code).toBe('FORBIDDEN');
    expect(admin.body.detail).toMatch(/"admin" scope/);
    const keysFromKey = await new Client(t.app, key).post('/v1/api-keys', {
      name: 'child',
      scopes: ['chat'],
    });
    expect(keysFromKey.status).toBe(403);
    const { key: adminKey } = await createApiKey(tenant.admin.client, ['admin']);
    expect((await new Client(t.app, adminKey).get('/v1/admin/users')).status).toBe(200);
  });

  it('does not let a member grant the admin scope', async () => {
    const res = await member.client.post('/v1/api-keys', { name: 'sneaky', scopes: ['admin'] });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/may not grant the scope admin/);
  });

  it('refuses a revoked key on the very next request', async () => {
    const { key, id } = await createApiKey(member.client, ['chat']);
    const client = new Client(t.app, key);
    expect((await client.get('/v1/auth/me')).status).toBe(200);
    expect((await member.client.delete(`/v1/api-keys/${id}`)).status).toBe(204);
    const res = await client.get('/v1/auth/me');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_API_KEY');
  });

  it('rotates: a new secret works, the old one keeps working for the grace period only', async () => {
    const { key: oldKey, id } = await createApiKey(member.client, ['chat']);
    const rotated = await member.client.post(`/v1/api-keys/${id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).not.toBe(oldKey);
    expect(rotated.body.id).toBe(id);
    expect((await new Client(t.app, rotated.body.key).get('/v1/auth/me')).status).toBe(200);
    expect((await new Client(t.app, oldKey).get('/v1/auth/me')).status).toBe(200);
    // End the grace period as time would.
    await t.app
      .get(DataSource)
      .query(
        `UPDATE api_keys SET previous_valid_until = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
    expect((await new Client(t.app, oldKey).get('/v1/auth/me')).status).toBe(401);
    expect((await new Client(t.app, rotated.body.key).get('/v1/auth/me')).status).toBe(200);
  });

  it('refuses an expired key, and an expiry in the past at creation', async () => {
    const past = await member.client.post('/v1/api-keys', {
      name: 'old',
      scopes: ['chat'],
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(400);
    expect(past.body.errors[0].field).toBe('expiresAt');
    const soon = new Date(Date.now() + 1500).toISOString();
    const { key } = await createApiKey(member.client, ['chat'], { expiresAt: soon });
    expect((await new Client(t.app, key).get('/v1/auth/me')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1800));
    expect((await new Client(t.app, key).get('/v1/auth/me')).status).toBe(401);
  });

  it('refuses malformed and made-up keys the same way', async () => {
    for (const key of ['pk_short', `pk_${'A'.repeat(43)}`]) {
      const res = await new Client(t.app).get('/v1/auth/me', { 'x-api-key': key });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('INVALID_API_KEY');
    }
  });

  it('stops the keys of a disabled user', async () => {
    const user = await createUser(tenant);
    const { key } = await createApiKey(user.client, ['chat']);
    expect((await new Client(t.app, key).get('/v1/auth/me')).status).toBe(200);
    await tenant.admin.client.patch(`/v1/admin/users/${user.id}`, { disabled: true });
    expect((await new Client(t.app, key).get('/v1/auth/me')).status).toBe(401);
  });

  it('lets admins list and revoke every key of their tenant', async () => {
    const { id, key } = await createApiKey(member.client, ['audio']);
    const list = await tenant.admin.client.get('/v1/admin/api-keys?limit=200');
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(id);
    expect((await tenant.admin.client.delete(`/v1/admin/api-keys/${id}`)).status).toBe(204);
    expect((await new Client(t.app, key).get('/v1/auth/me')).status).toBe(401);
  });
});

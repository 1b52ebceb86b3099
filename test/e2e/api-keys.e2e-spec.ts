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

  it('cuts a key to what its creator may do now: a demotion takes the admin scopes at once', async () => {
    const creator = await createUser(tenant, 'admin');
    const { key } = await createApiKey(creator.client, ['admin', 'usage:read', 'chat']);
    const bot = new Client(t.app, key);
    expect((await bot.get('/v1/auth/me')).body.scopes).toEqual(['admin', 'usage:read', 'chat']);
    expect((await bot.get('/v1/admin/users')).status).toBe(200);

    const demote = await tenant.admin.client.patch(`/v1/admin/users/${creator.id}`, {
      role: 'member',
    });
    expect(demote.status).toBe(200);
    expect((await bot.get('/v1/auth/me')).body.scopes).toEqual(['chat']);
    const refused = await bot.get('/v1/admin/users');
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('FORBIDDEN');
    // The key keeps its stored scopes: promoted again, its creator's key may do it again.
    await tenant.admin.client.patch(`/v1/admin/users/${creator.id}`, { role: 'admin' });
    expect((await bot.get('/v1/admin/users')).status).toBe(200);
  });

  it('stops the keys of a deleted user', async () => {
    const user = await createUser(tenant);
    const { key } = await createApiKey(user.client, ['chat']);
    expect((await new Client(t.app, key).get('/v1/auth/me')).status).toBe(200);
    // No route deletes users yet; the key's created_by becomes NULL (ON DELETE SET NULL).
    await t.app.get(DataSource).query('DELETE FROM users WHERE id = $1', [user.id]);
    const res = await new Client(t.app, key).get('/v1/auth/me');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_API_KEY');
  });

  it('does not let an admin key create users or change roles (an interactive admin session must)', async () => {
    const { key } = await createApiKey(tenant.admin.client, ['admin']);
    const bot = new Client(t.app, key);
    const user = await createUser(tenant);
    const email = `made-by-key@${tenant.name}.test`;
    const create = await bot.post('/v1/admin/users', {
      email,
      password: 'a-long-enough-password-0123',
      role: 'admin',
      name: 'Made by a key',
    });
    expect(create.status).toBe(403);
    expect(create.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(create.body.code).toBe('INTERACTIVE_SESSION_REQUIRED');
    expect(create.body.detail).toMatch(/interactive admin session/);
    const promote = await bot.patch(`/v1/admin/users/${user.id}`, { role: 'admin' });
    expect(promote.status).toBe(403);
    expect(promote.body.code).toBe('INTERACTIVE_SESSION_REQUIRED');
    expect(promote.body.detail).toMatch(/change roles.*interactive admin session/);

    const users = await tenant.admin.client.get('/v1/admin/users?limit=200');
    expect(users.body.items.map((u: { email: string }) => u.email)).not.toContain(email);
    expect((await tenant.admin.client.get(`/v1/admin/users/${user.id}`)).body.role).toBe('member');
    // What the admin scope still covers.
    expect((await bot.patch(`/v1/admin/users/${user.id}`, { name: 'Renamed' })).status).toBe(200);
    // An interactive admin may.
    expect(
      (await tenant.admin.client.patch(`/v1/admin/users/${user.id}`, { role: 'admin' })).status,
    ).toBe(200);
  });

  it('lets only a superadmin disable, demote or rename a superadmin', async () => {
    const db = t.app.get(DataSource);
    const root = await createUser(tenant, 'admin');
    const other = await createUser(tenant, 'admin');
    await db.query('UPDATE users SET superadmin = true WHERE id = ANY($1)', [[root.id, other.id]]);
    const { key } = await createApiKey(tenant.admin.client, ['admin']);
    for (const [caller, patch] of [
      [tenant.admin.client, { disabled: true }],
      [tenant.admin.client, { role: 'member' }],
      [tenant.admin.client, { name: 'Not root' }],
      [new Client(t.app, key), { disabled: true }],
    ] as const) {
      const res = await caller.patch(`/v1/admin/users/${root.id}`, patch);
      expect({ patch, status: res.status, code: res.body.code }).toEqual({
        patch,
        status: 403,
        code: 'SUPERADMIN_PROTECTED',
      });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const [row] = await db.query('SELECT role, disabled, superadmin FROM users WHERE id = $1', [
      root.id,
    ]);
    expect(row).toEqual({ role: 'admin', disabled: false, superadmin: true });
    expect((await root.client.get('/v1/auth/me')).status).toBe(200);
    // Another superadmin may.
    const demote = await other.client.patch(`/v1/admin/users/${root.id}`, { role: 'member' });
    expect(demote.status).toBe(200);
    expect(demote.body.role).toBe('member');
  });

  it('lets admins list and revoke every key of their tenant', async () => {
    const { id, key } = await createApiKey(member.client, ['audio']);
    const list = await tenant.admin.client.get('/v1/admin/api-keys?limit=200');
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(id);
    expect((await tenant.admin.client.delete(`/v1/admin/api-keys/${id}`)).status).toBe(204);
    expect((await new Client(t.app, key).get('/v1/auth/me')).status).toBe(401);
  });
});

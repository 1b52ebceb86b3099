import { DataSource } from 'typeorm';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  login,
  type TestTenant,
} from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';

describe('audit log', () => {
  let t: TestApp;
  let tenant: TestTenant;
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' } });
    tenant = await createTenant(t.app);
    secrets.push(tenant.admin.password, tenant.admin.client.credential!);
    const member = await createUser(tenant);
    secrets.push(member.password, member.tokens.accessToken, member.tokens.refreshToken);
    const failed = await new Client(t.app).post('/v1/auth/login', {
      email: member.email,
      password: 'wrong-password-for-audit',
      tenant: tenant.name,
    });
    expect(failed.status).toBe(401);
    secrets.push('wrong-password-for-audit');
    const refreshed = await new Client(t.app).post('/v1/auth/refresh', {
      refreshToken: member.tokens.refreshToken,
    });
    secrets.push(refreshed.body.refreshToken);
    await new Client(t.app).post('/v1/auth/refresh', { refreshToken: member.tokens.refreshToken }); // reuse
    const key = await createApiKey(member.client, ['chat']);
    secrets.push(key.key);
    await tenant.admin.client.delete(`/v1/admin/api-keys/${key.id}`);
    await tenant.admin.client.patch(`/v1/admin/users/${member.id}`, { role: 'admin' });
    await tenant.admin.client.patch(`/v1/admin/users/${member.id}`, { disabled: true });
  });
  afterAll(() => t?.close());

  it('records every event with who, from where, which request and what', async () => {
    const res = await tenant.admin.client.get('/v1/admin/audit-logs?limit=200');
    expect(res.status).toBe(200);
    const actions = res.body.items.map((e: { action: string }) => e.action);
    for (const action of [
      'tenant.created',
      'user.created',
      'auth.login.succeeded',
      'auth.login.failed',
      'auth.refresh.reused',
      'apikey.created',
      'apikey.revoked',
      'user.role_changed',
      'user.disabled',
    ]) {
      expect({ action, present: actions.includes(action) }).toEqual({ action, present: true });
    }
    const revoked = res.body.items.find((e: { action: string }) => e.action === 'apikey.revoked');
    expect(revoked).toMatchObject({
      actorUserId: tenant.admin.id,
      ip: '127.0.0.1',
      userAgent: 'lightMyRequest',
      targetType: 'apiKey',
    });
    expect(revoked.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const role = res.body.items.find((e: { action: string }) => e.action === 'user.role_changed');
    expect(role.metadata).toEqual({ from: 'member', to: 'admin' });
  });

  it('holds no secrets: no password, token or key appears anywhere in it', async () => {
    const rows = await t.app
      .get(DataSource)
      .query('SELECT * FROM audit_logs WHERE tenant_id = $1', [tenant.id]);
    const dump = JSON.stringify(rows);
    for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(dump).not.toMatch(/argon2/);
  });

  it('filters by action, actor and time, and pages with a cursor', async () => {
    const failed = await tenant.admin.client.get('/v1/admin/audit-logs?action=auth.login.failed');
    expect(failed.body.items.length).toBeGreaterThan(0);
    expect(
      failed.body.items.every((e: { action: string }) => e.action === 'auth.login.failed'),
    ).toBe(true);

    const byActor = await tenant.admin.client.get(
      `/v1/admin/audit-logs?actorId=${tenant.admin.id}&limit=200`,
    );
    expect(
      byActor.body.items.every((e: { actorUserId: string }) => e.actorUserId === tenant.admin.id),
    ).toBe(true);

    const future = await tenant.admin.client.get(
      `/v1/admin/audit-logs?from=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(future.body.items).toEqual([]);

    const all = (await tenant.admin.client.get('/v1/admin/audit-logs?limit=200')).body.items.map(
      (e: { id: string }) => e.id,
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } =
        await tenant.admin.client.get(
          `/v1/admin/audit-logs?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((e) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);

    const bad = await tenant.admin.client.get('/v1/admin/audit-logs?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_CURSOR');
  });

  it('cannot be changed or deleted, even with direct SQL', async () => {
    const db = t.app.get(DataSource);
    await expect(
      db.query(`UPDATE audit_logs SET action = 'x' WHERE tenant_id = $1`, [tenant.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.query(`DELETE FROM audit_logs WHERE tenant_id = $1`, [tenant.id]),
    ).rejects.toThrow(/append-only/);
  });

  it('records logins of the superadmin too (login events carry the actor)', async () => {
    const member = await createUser(tenant);
    await login(t.app, member.email, member.password, tenant.name);
    const res = await tenant.admin.client.get(
      `/v1/admin/audit-logs?action=auth.login.succeeded&actorId=${member.id}`,
    );
    expect(res.body.items.length).toBeGreaterThanOrEqual(1);
  });
});

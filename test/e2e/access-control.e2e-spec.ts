import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AUTH_POLICY } from '@parley/auth';
import { IS_PUBLIC } from '@parley/core';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';

interface Route {
  method: string;
  path: string;
  isPublic: boolean;
  policy?: { role: string; scope?: string; superadmin?: boolean };
}

/** Every HTTP route of the application, found the way Nest finds them. */
function routes(t: TestApp): Route[] {
  const discovery = t.app.get(DiscoveryService);
  const scanner = t.app.get(MetadataScanner);
  const reflector = t.app.get(Reflector);
  const found: Route[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as new () => object;
    if (!controller?.prototype) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, () => unknown>)[name]!;
      const path = Reflect.getMetadata(PATH_METADATA, handler);
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number]!;
      found.push({
        method,
        path: `/${[base, String(path)].filter((p) => p && p !== '/').join('/')}`.replace(
          /\/+/g,
          '/',
        ),
        isPublic: Boolean(reflector.getAllAndOverride(IS_PUBLIC, [handler, controller])),
        policy: reflector.getAllAndOverride(AUTH_POLICY, [handler, controller]),
      });
    }
  }
  return found;
}

const concrete = (path: string, id: string) => path.replace(/:[a-zA-Z]+/g, id);
const SOME_ID = '01900000-0000-7000-8000-000000000000';

describe('access control', () => {
  let t: TestApp;
  let tenantA: TestTenant;
  let tenantB: TestTenant;
  let memberA: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    tenantA = await createTenant(t.app);
    tenantB = await createTenant(t.app);
    memberA = await createUser(tenantA);
  });
  afterAll(() => t?.close());

  it('has an explicit policy on every route: @Public() or @Authorize() (deny by default)', () => {
    const all = routes(t);
    expect(all.length).toBeGreaterThan(15);
    const unguarded = all
      .filter((r) => !r.isPublic && !r.policy)
      .map((r) => `${r.method} ${r.path}`);
    expect(unguarded).toEqual([]);
    const publicRoutes = all
      .filter((r) => r.isPublic)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(publicRoutes).toEqual([
      'GET /health/live',
      'GET /health/ready',
      // Behind METRICS_TOKEN, or not served on this port (metrics.e2e-spec).
      'GET /metrics',
      'POST /v1/auth/login',
      'POST /v1/auth/logout',
      'POST /v1/auth/refresh',
    ]);
  });

  it('answers 401 without credentials on every non-public route', async () => {
    for (const r of routes(t).filter((x) => !x.isPublic)) {
      const res = await new Client(t.app).request(
        r.method as 'GET',
        concrete(r.path, SOME_ID),
        r.method === 'GET' || r.method === 'DELETE' ? undefined : {},
      );
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 401,
      });
    }
  });

  it('answers a member 403 FORBIDDEN on every admin route', async () => {
    const adminRoutes = routes(t).filter((r) => r.policy?.role === 'admin');
    expect(adminRoutes.length).toBeGreaterThanOrEqual(9);
    for (const r of adminRoutes) {
      const res = await memberA.client.request(
        r.method as 'GET',
        concrete(r.path, SOME_ID),
        r.method === 'GET' || r.method === 'DELETE' ? undefined : {},
      );
      expect({ route: `${r.method} ${r.path}`, status: res.status, code: res.body?.code }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
  });

  it('answers a tenant admin 403 on the superadmin routes', async () => {
    expect((await tenantA.admin.client.get('/v1/admin/tenants')).status).toBe(403);
    expect(
      (
        await tenantA.admin.client.post('/v1/admin/tenants', {
          name: 'nope',
          adminEmail: 'a@b.test',
          adminPassword: 'long-enough-password',
        })
      ).status,
    ).toBe(403);
  });

  describe('cross-tenant access answers 404, never 403, never data', () => {
    it('users', async () => {
      const userB = await createUser(tenantB);
      for (const res of [
        await tenantA.admin.client.get(`/v1/admin/users/${userB.id}`),
        await tenantA.admin.client.patch(`/v1/admin/users/${userB.id}`, { role: 'admin' }),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('NOT_FOUND');
        expect(res.raw).not.toContain(userB.email);
      }
      const list = await tenantA.admin.client.get('/v1/admin/users?limit=200');
      expect(list.raw).not.toContain(userB.id);
      // B's user is untouched.
      expect((await tenantB.admin.client.get(`/v1/admin/users/${userB.id}`)).body.role).toBe(
        'member',
      );
    });

    it('API keys, through the admin API and the owner API', async () => {
      const userB = await createUser(tenantB);
      const keyB = await createApiKey(userB.client, ['chat']);
      expect((await tenantA.admin.client.delete(`/v1/admin/api-keys/${keyB.id}`)).status).toBe(404);
      expect((await tenantA.admin.client.delete(`/v1/api-keys/${keyB.id}`)).status).toBe(404);
      expect((await tenantA.admin.client.post(`/v1/api-keys/${keyB.id}/rotate`)).status).toBe(404);
      expect((await tenantA.admin.client.get('/v1/admin/api-keys?limit=200')).raw).not.toContain(
        keyB.id,
      );
      expect((await new Client(t.app, keyB.key).get('/v1/auth/me')).status).toBe(200);
      // Within a tenant, a member cannot touch another member's key either.
      const keyA = await createApiKey(tenantA.admin.client, ['chat']);
      expect((await memberA.client.delete(`/v1/api-keys/${keyA.id}`)).status).toBe(404);
    });

    it('audit logs', async () => {
      const a = await tenantA.admin.client.get('/v1/admin/audit-logs?limit=200');
      expect(a.status).toBe(200);
      expect(a.raw).not.toContain(tenantB.admin.id);
    });
  });

  describe('mass assignment', () => {
    const forbidden = {
      role: 'admin',
      tenantId: SOME_ID,
      superadmin: true,
      nested: { evil: true },
    };
    const writes: [string, string, Record<string, unknown>, () => Client][] = [];

    beforeAll(() => {
      writes.push(
        [
          'POST',
          '/v1/auth/login',
          { email: tenantA.admin.email, password: tenantA.admin.password, tenant: tenantA.name },
          () => new Client(t.app),
        ],
        ['POST', '/v1/auth/refresh', { refreshToken: 'x'.repeat(43) }, () => new Client(t.app)],
        ['POST', '/v1/auth/logout', { refreshToken: 'x'.repeat(43) }, () => new Client(t.app)],
        [
          'POST',
          '/v1/auth/password',
          { currentPassword: 'a', newPassword: 'b' },
          () => memberA.client,
        ],
        ['POST', '/v1/api-keys', { name: 'k', scopes: ['chat'] }, () => memberA.client],
        [
          'PATCH',
          `/v1/admin/users/${memberA.id}`,
          { name: 'N', role: 'member' },
          () => tenantA.admin.client,
        ],
      );
    });

    it('refuses role, tenantId, superadmin and unknown nested fields with 400 on write endpoints that do not take them', async () => {
      for (const [method, url, valid, client] of writes) {
        for (const [field, value] of Object.entries(forbidden)) {
          if (field in valid) continue;
          const res = await client().request(method as 'POST', url, { ...valid, [field]: value });
          expect({ url, field, status: res.status, code: res.body?.code }).toEqual({
            url,
            field,
            status: 400,
            code: 'VALIDATION_FAILED',
          });
        }
      }
      // POST /v1/admin/users takes `role`, but not tenantId, superadmin or anything else.
      for (const field of ['tenantId', 'superadmin', 'nested']) {
        const res = await tenantA.admin.client.post('/v1/admin/users', {
          email: `x${field}@a.test`,
          password: 'long-enough-password-1',
          role: 'member',
          name: 'X',
          [field]: forbidden[field as keyof typeof forbidden],
        });
        expect({ field, status: res.status }).toEqual({ field, status: 400 });
      }
      expect((await memberA.client.get('/v1/auth/me')).body.superadmin).toBe(false);
    });

    it('never returns password or key hashes', async () => {
      const bodies = [
        (await tenantA.admin.client.get('/v1/admin/users?limit=200')).raw,
        (await tenantA.admin.client.get(`/v1/admin/users/${memberA.id}`)).raw,
        (await tenantA.admin.client.get('/v1/admin/api-keys?limit=200')).raw,
        (await memberA.client.get('/v1/api-keys')).raw,
        (await tenantA.admin.client.get('/v1/admin/audit-logs?limit=200')).raw,
      ];
      for (const body of bodies)
        expect(body).not.toMatch(/argon2|password_?hash|secret_?hash|passwordHash|secretHash/i);
    });
  });
});

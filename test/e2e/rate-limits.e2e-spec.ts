import { Client, createTenant, createUser, login, type TestTenant } from '../support/identity';
import { describeWhen, redisConfigured } from '../support/skip';
import { createTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('login throttling and account lockout', () => {
  let t: TestApp;
  let tenant: TestTenant;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
        LOGIN_BASE_LOCK_SECONDS: '1',
        LOGIN_MAX_FAILURES_PER_IP: '1000',
        RATE_LIMIT_AUTH: '1000/60',
      },
    });
    tenant = await createTenant(t.app);
  });
  afterAll(() => t?.close());

  const attempt = (password: string) =>
    new Client(t.app).post('/v1/auth/login', {
      email: tenant.admin.email,
      password,
      tenant: tenant.name,
    });

  it('locks the account after repeated failures, with growing delays, and unlocks when the lock expires', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('wrong-password-here')).status).toBe(401);

    const locked = await attempt(tenant.admin.password);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('RATE_LIMITED');
    expect(locked.headers['retry-after']).toBe('1');
    expect(locked.headers['content-type']).toMatch(/problem\+json/);

    await sleep(1200);
    // One more failure within the window doubles the lock.
    expect((await attempt('wrong-password-here')).status).toBe(401);
    const longer = await attempt(tenant.admin.password);
    expect(longer.status).toBe(429);
    expect(longer.headers['retry-after']).toBe('2');

    await sleep(2200);
    expect((await attempt(tenant.admin.password)).status).toBe(200);
    // Success clears the count: the next failure does not lock.
    expect((await attempt('wrong-password-here')).status).toBe(401);
    expect((await attempt(tenant.admin.password)).status).toBe(200);
  });

  it('does not let one account’s lock spill onto another', async () => {
    const other = await createUser(tenant);
    for (let i = 0; i < 3; i++) {
      await new Client(t.app).post('/v1/auth/login', {
        email: other.email,
        password: 'nope-nope-nope',
        tenant: tenant.name,
      });
    }
    expect((await attempt(tenant.admin.password)).status).toBe(200);
  });
});

describe('per-IP login throttling', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        LOGIN_MAX_FAILURES_PER_IP: '4',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
        RATE_LIMIT_AUTH: '1000/60',
      },
    });
  });
  afterAll(() => t?.close());

  it('locks a client that guesses across many accounts', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (
          await new Client(t.app).post('/v1/auth/login', {
            email: `guess${i}@x.test`,
            password: 'password-guess',
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  });
});

describe('request rate limits', () => {
  let t: TestApp;
  let tenant: TestTenant;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_ADMIN: '3/60' } });
    tenant = await createTenant(t.app);
  });
  afterAll(() => t?.close());

  it('limits per principal per route group, with RateLimit-* headers and a 429 problem with Retry-After', async () => {
    const other = await createUser(tenant, 'admin'); // one admin request of the first admin's budget
    const first = await tenant.admin.client.get('/v1/admin/users');
    expect(first.headers['ratelimit-limit']).toBe('3');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect((await tenant.admin.client.get('/v1/admin/audit-logs')).status).toBe(200);
    const over = await tenant.admin.client.get('/v1/admin/users');
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('RATE_LIMITED');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);

    // Other groups and other principals have their own budgets.
    expect((await tenant.admin.client.get('/v1/auth/me')).status).toBe(200);
    expect((await other.client.get('/v1/admin/users')).status).toBe(200);
  });

  it('does not limit health probes', async () => {
    for (let i = 0; i < 5; i++)
      expect((await new Client(t.app).get('/health/live')).status).toBe(200);
    expect(
      (await new Client(t.app).get('/health/live')).headers['ratelimit-limit'],
    ).toBeUndefined();
  });
});

describeWhen(redisConfigured, 'limits shared across instances need REDIS_URL')(
  'rate limits across two instances on one Redis',
  () => {
    let database: TestDatabase;
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      database = await createTestDatabase();
      const env = {
        RATE_LIMIT_ADMIN: '4/60',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '2',
        RATE_LIMIT_AUTH: '1000/60',
      };
      a = await createTestApp({ database, env });
      b = await createTestApp({ database, env });
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await database?.drop();
    });

    it('counts requests to both instances against one limit', async () => {
      const tenant = await createTenant(a.app);
      const token = tenant.admin.client.credential!;
      const statuses = [];
      for (let i = 0; i < 6; i++)
        statuses.push(
          (await new Client(i % 2 ? b.app : a.app, token).get('/v1/admin/users')).status,
        );
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    });

    it('shares failed-login counts, so a lock on one instance holds on the other', async () => {
      const tenant = await createTenant(a.app);
      const body = { email: tenant.admin.email, password: 'wrong-password-x', tenant: tenant.name };
      expect((await new Client(a.app).post('/v1/auth/login', body)).status).toBe(401);
      expect((await new Client(b.app).post('/v1/auth/login', body)).status).toBe(401);
      const locked = await new Client(a.app).post('/v1/auth/login', {
        ...body,
        password: tenant.admin.password,
      });
      expect(locked.status).toBe(429);
      const alsoLocked = await new Client(b.app).post('/v1/auth/login', {
        ...body,
        password: tenant.admin.password,
      });
      expect(alsoLocked.status).toBe(429);
      await expect(
        login(a.app, tenant.admin.email, tenant.admin.password, tenant.name),
      ).rejects.toThrow(/429/);
    });
  },
);

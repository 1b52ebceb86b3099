import { parseArgon2Params } from '@parley/auth';
import { DataSource } from 'typeorm';
import { Client, createTenant, login, strongPassword, type TestTenant } from '../support/identity';
import { createTestApp, ROOT, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

async function storedHash(t: TestApp, email: string): Promise<string> {
  const rows = await t.app
    .get(DataSource)
    .query('SELECT password_hash FROM users WHERE lower(email) = lower($1)', [email]);
  return rows[0].password_hash;
}

describe('passwords', () => {
  let database: TestDatabase;
  let t: TestApp;
  let tenant: TestTenant;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await createTestApp({ database });
    tenant = await createTenant(t.app);
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  const createUser = (
    password: string,
    email = `u-${Math.random().toString(36).slice(2)}@x.test`,
  ) => tenant.admin.client.post('/v1/admin/users', { email, password, role: 'member', name: 'U' });

  it('stores argon2id with at least m=19 MiB, t=2, p=1, never the password', async () => {
    const password = strongPassword();
    const res = await createUser(password, 'hash-check@x.test');
    expect(res.status).toBe(201);
    expect(res.raw).not.toMatch(/password|argon/i);
    const hash = await storedHash(t, 'hash-check@x.test');
    expect(hash).not.toContain(password);
    const params = parseArgon2Params(hash)!;
    expect(params.algorithm).toBe('argon2id');
    expect(params.memoryCost).toBeGreaterThanOrEqual(19456);
    expect(params.timeCost).toBeGreaterThanOrEqual(2);
    expect(params.parallelism).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['too short', 'elevenchars', /at least 12 characters long \(it has 11\)/],
    ['common', 'qwerty123456', /commonly used passwords/],
    ['common, other case', 'QWERTY123456', /commonly used passwords/],
    ['too long', 'x'.repeat(129), /at most 128 characters/],
  ])('refuses a %s password with 400 WEAK_PASSWORD saying why', async (_label, password, why) => {
    const res = await createUser(password);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('WEAK_PASSWORD');
    expect(res.body.detail).toMatch(why);
    expect(res.body.errors).toEqual([
      { field: 'password', messages: [expect.stringMatching(why)] },
    ]);
  });

  it('counts code points, imposes no composition rules and does not truncate', async () => {
    const emoji = '🔐'.repeat(12); // 12 code points, 24 UTF-16 units
    expect((await createUser(emoji, 'emoji@x.test')).status).toBe(201);
    expect((await login(t.app, 'emoji@x.test', emoji, tenant.name)).accessToken).toBeTruthy();
    const long = 'a'.repeat(100) + 'tail';
    expect((await createUser(long, 'long@x.test')).status).toBe(201);
    const truncated = await new Client(t.app).post('/v1/auth/login', {
      email: 'long@x.test',
      password: 'a'.repeat(100),
      tenant: tenant.name,
    });
    expect(truncated.status).toBe(401);
  });

  it('normalises with NFKC, so compatibility forms of the same password match', async () => {
    const fullwidth = 'ｐａｓｓｗｏｒｄ－ｗｉｔｈ－ｗｉｄｔｈ'; // full-width forms
    expect((await createUser(fullwidth, 'nfkc@x.test')).status).toBe(201);
    expect(
      (await login(t.app, 'nfkc@x.test', 'password-with-width', tenant.name)).accessToken,
    ).toBeTruthy();
  });

  it('rehashes at the next login when the parameters are raised', async () => {
    const password = strongPassword();
    expect((await createUser(password, 'rehash@x.test')).status).toBe(201);
    expect(parseArgon2Params(await storedHash(t, 'rehash@x.test'))!.timeCost).toBe(2);
    await t.close();
    t = await createTestApp({ database, env: { PASSWORD_HASH_ITERATIONS: '3' } });
    await login(t.app, 'rehash@x.test', password, tenant.name);
    expect(parseArgon2Params(await storedHash(t, 'rehash@x.test'))!.timeCost).toBe(3);
    // and the password still works with the new hash
    await login(t.app, 'rehash@x.test', password, tenant.name);
  });
});

describe('bootstrap', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('creates the default tenant and the superadmin on the first start only', async () => {
    let t = await createTestApp({ database });
    const rootTokens = await login(t.app, ROOT.email, ROOT.password);
    const root = new Client(t.app, rootTokens.accessToken);
    const tenants = await root.get('/v1/admin/tenants');
    expect(tenants.body.items.map((x: { name: string }) => x.name)).toEqual(['default']);
    await t.close();

    // A second start with other bootstrap credentials creates nothing.
    t = await createTestApp({
      database,
      env: {
        BOOTSTRAP_ADMIN_EMAIL: 'second@parley.test',
        BOOTSTRAP_ADMIN_PASSWORD: 'another-strong-password',
      },
    });
    const again = await new Client(
      t.app,
      (await login(t.app, ROOT.email, ROOT.password)).accessToken,
    ).get('/v1/admin/tenants');
    expect(again.body.items).toHaveLength(1);
    expect(
      (
        await new Client(t.app).post('/v1/auth/login', {
          email: 'second@parley.test',
          password: 'another-strong-password',
        })
      ).status,
    ).toBe(401);
    const users = await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM users');
    expect(users[0].n).toBe(1);
    await t.close();
  });
});

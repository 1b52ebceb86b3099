import { generateKeyPairSync } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { Client, createTenant, createUser, login, type TestTenant } from '../support/identity';
import { createTestApp, ROOT, TEST_JWT_KEY, type TestApp } from '../support/test-app';

const now = () => Math.floor(Date.now() / 1000);

describe('sessions: login, refresh, logout, access tokens', () => {
  let t: TestApp;
  let tenant: TestTenant;

  beforeAll(async () => {
    t = await createTestApp();
    tenant = await createTenant(t.app);
  });
  afterAll(() => t?.close());

  const anonymous = () => new Client(t.app);

  it('logs in and returns a token pair; /v1/auth/me answers with the principal', async () => {
    const res = await anonymous().post('/v1/auth/login', {
      email: tenant.admin.email,
      password: tenant.admin.password,
      tenant: tenant.name,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
      tokenType: 'Bearer',
    });
    const me = await new Client(t.app, res.body.accessToken).get('/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      kind: 'user',
      tenantId: tenant.id,
      userId: tenant.admin.id,
      role: 'admin',
      superadmin: false,
    });
  });

  it('logs in to the default tenant when none is given, with the email in any case', async () => {
    const tokens = await login(t.app, ROOT.email.toUpperCase(), ROOT.password);
    const me = await new Client(t.app, tokens.accessToken).get('/v1/auth/me');
    expect(me.body).toMatchObject({ superadmin: true, role: 'admin' });
  });

  it('answers a wrong email, wrong password and wrong tenant alike: 401 INVALID_CREDENTIALS', async () => {
    const attempts = [
      { email: 'nobody@nowhere.test', password: tenant.admin.password, tenant: tenant.name },
      { email: tenant.admin.email, password: 'not-the-password-at-all', tenant: tenant.name },
      { email: tenant.admin.email, password: tenant.admin.password, tenant: 'no-such-tenant' },
    ];
    const bodies = [];
    for (const attempt of attempts) {
      const res = await anonymous().post('/v1/auth/login', attempt);
      expect(res.status).toBe(401);
      bodies.push({ code: res.body.code, detail: res.body.detail });
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]!.code).toBe('INVALID_CREDENTIALS');
  });

  it('rotates refresh tokens, and a reused one revokes the whole family', async () => {
    const first = await login(t.app, tenant.admin.email, tenant.admin.password, tenant.name);
    const second = await anonymous().post('/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await new Client(t.app, second.body.accessToken).get('/v1/auth/me')).status).toBe(200);

    const reused = await anonymous().post('/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('REFRESH_TOKEN_REUSED');
    // The attacker's copy and the victim's newer token are both dead now.
    const afterReuse = await anonymous().post('/v1/auth/refresh', {
      refreshToken: second.body.refreshToken,
    });
    expect(afterReuse.status).toBe(401);
  });

  it('lets only one of two concurrent refreshes with the same token succeed', async () => {
    const tokens = await login(t.app, tenant.admin.email, tenant.admin.password, tenant.name);
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        anonymous().post('/v1/auth/refresh', { refreshToken: tokens.refreshToken }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('refuses unknown refresh tokens, and logout ends the session', async () => {
    const unknown = await anonymous().post('/v1/auth/refresh', { refreshToken: 'x'.repeat(43) });
    expect(unknown.body.code).toBe('REFRESH_TOKEN_INVALID');
    const tokens = await login(t.app, tenant.admin.email, tenant.admin.password, tenant.name);
    expect(
      (await anonymous().post('/v1/auth/logout', { refreshToken: tokens.refreshToken })).status,
    ).toBe(204);
    expect(
      (await anonymous().post('/v1/auth/refresh', { refreshToken: tokens.refreshToken })).status,
    ).toBe(401);
  });

  describe('refuses forged and unsuitable access tokens', () => {
    let claims: Record<string, unknown>;
    const base = { algorithm: 'HS256' as const, keyid: TEST_JWT_KEY.kid };

    beforeAll(() => {
      claims = {
        sub: tenant.admin.id,
        tid: tenant.id,
        iss: 'parley',
        aud: 'parley-api',
        jti: 'j1',
        iat: now(),
        iat_ms: Date.now(),
        exp: now() + 600,
      };
    });

    const expectRefused = async (token: string) => {
      const res = await new Client(t.app, token).get('/v1/auth/me');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('INVALID_TOKEN');
    };

    it('accepts a correctly signed token (the control case)', async () => {
      const token = sign(claims, TEST_JWT_KEY.secret, base);
      expect((await new Client(t.app, token).get('/v1/auth/me')).status).toBe(200);
    });

    it('expired', () =>
      expectRefused(
        sign(
          { ...claims, iat: now() - 1000, iat_ms: Date.now() - 1_000_000, exp: now() - 10 },
          TEST_JWT_KEY.secret,
          base,
        ),
      ));

    it('tampered payload', async () => {
      const [h, , s] = sign(claims, TEST_JWT_KEY.secret, base).split('.');
      const payload = Buffer.from(
        JSON.stringify({ ...claims, sub: '00000000-0000-7000-8000-000000000000' }),
      ).toString('base64url');
      await expectRefused(`${h}.${payload}.${s}`);
    });

    it('wrong audience', () =>
      expectRefused(sign({ ...claims, aud: 'someone-else' }, TEST_JWT_KEY.secret, base)));
    it('wrong issuer', () =>
      expectRefused(sign({ ...claims, iss: 'evil' }, TEST_JWT_KEY.secret, base)));
    it('unknown key id', () =>
      expectRefused(sign(claims, TEST_JWT_KEY.secret, { ...base, keyid: 'other' })));
    it('signed with another secret', () =>
      expectRefused(sign(claims, 'another-secret-that-is-long-enough-000000', base)));
    it('without a jti', () => {
      const { jti: _jti, ...rest } = claims;
      return expectRefused(sign(rest, TEST_JWT_KEY.secret, base));
    });

    it('alg: none', async () => {
      const header = Buffer.from(
        JSON.stringify({ alg: 'none', typ: 'JWT', kid: TEST_JWT_KEY.kid }),
      ).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      await expectRefused(`${header}.${payload}.`);
    });

    it('RS256 (HS/RS confusion: an attacker signs with a key pair of their own)', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      await expectRefused(
        sign(claims, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
          algorithm: 'RS256',
          keyid: TEST_JWT_KEY.kid,
        }),
      );
    });

    it('HS512 with the right secret (the algorithm is pinned)', () =>
      expectRefused(sign(claims, TEST_JWT_KEY.secret, { ...base, algorithm: 'HS512' })));

    it('never reads a token from the query string', async () => {
      const token = sign(claims, TEST_JWT_KEY.secret, base);
      const res = await new Client(t.app).get(`/v1/auth/me?access_token=${token}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });
  });

  it('ends old access tokens on the next request after a password change, a disable or a role change', async () => {
    const member = await createUser(tenant);
    const second = await login(t.app, member.email, member.password, tenant.name);

    // Role change: the token issued before is refused; a new login works.
    expect(
      (await tenant.admin.client.patch(`/v1/admin/users/${member.id}`, { role: 'admin' })).status,
    ).toBe(200);
    expect((await member.client.get('/v1/auth/me')).status).toBe(401);
    const afterRole = await login(t.app, member.email, member.password, tenant.name);
    expect((await new Client(t.app, afterRole.accessToken).get('/v1/auth/me')).body.role).toBe(
      'admin',
    );

    // Password change by the user: their other tokens and refresh tokens die.
    const self = new Client(t.app, afterRole.accessToken);
    const newPassword = 'a-brand-new-password-42';
    expect(
      (await self.post('/v1/auth/password', { currentPassword: member.password, newPassword }))
        .status,
    ).toBe(204);
    expect((await self.get('/v1/auth/me')).status).toBe(401);
    expect(
      (await new Client(t.app).post('/v1/auth/refresh', { refreshToken: second.refreshToken }))
        .status,
    ).toBe(401);
    const afterPassword = await login(t.app, member.email, newPassword, tenant.name);

    // Disable: refused at once, and cannot log in.
    expect(
      (await tenant.admin.client.patch(`/v1/admin/users/${member.id}`, { disabled: true })).status,
    ).toBe(200);
    expect((await new Client(t.app, afterPassword.accessToken).get('/v1/auth/me')).status).toBe(
      401,
    );
    const blocked = await new Client(t.app).post('/v1/auth/login', {
      email: member.email,
      password: newPassword,
      tenant: tenant.name,
    });
    expect(blocked.body.code).toBe('INVALID_CREDENTIALS');
  });
});

describe('signing key rotation', () => {
  let t: TestApp;
  const NEW_KEY = { kid: 'next-2', secret: 'the-next-signing-secret-long-enough-0123456789' };

  beforeAll(async () => {
    // The new key is listed first, so it signs; the old one (the tests' default) still verifies.
    t = await createTestApp({
      env: {
        JWT_SIGNING_KEYS: `${NEW_KEY.kid}:${NEW_KEY.secret},${TEST_JWT_KEY.kid}:${TEST_JWT_KEY.secret}`,
      },
    });
  });
  afterAll(() => t?.close());

  it('signs with the first key and still accepts tokens of the previous one', async () => {
    const tokens = await login(t.app, ROOT.email, ROOT.password);
    const header = JSON.parse(
      Buffer.from(tokens.accessToken.split('.')[0]!, 'base64url').toString(),
    );
    expect(header).toMatchObject({ alg: 'HS256', kid: NEW_KEY.kid });
    const me = await new Client(t.app, tokens.accessToken).get('/v1/auth/me');
    expect(me.status).toBe(200);

    const old = sign(
      {
        sub: me.body.userId,
        tid: me.body.tenantId,
        iss: 'parley',
        aud: 'parley-api',
        jti: 'j2',
        iat_ms: Date.now(),
      },
      TEST_JWT_KEY.secret,
      { algorithm: 'HS256', keyid: TEST_JWT_KEY.kid, expiresIn: 60 },
    );
    expect((await new Client(t.app, old).get('/v1/auth/me')).status).toBe(200);
  });
});

import { FakeLlm } from '../support/fake-llm';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { callJson, spawnDist, type SpawnedProcess } from '../support/spawned-process';
import { ROOT, testEnv } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { leaks } from './invariants';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Invariant 5 on the real process (`npm start`'s build, JSON logs at debug level): through
 * upstream faults, refusals and bad logins, no log line and no error body carries a password,
 * a token, an API key, the upstream's key, or what a user wrote (an email, a phone number).
 */
describe('reliability: no secret or personal data in logs or error bodies during faults', () => {
  let database: TestDatabase;
  let fake: FakeLlm;
  let api: SpawnedProcess;
  let base: string;
  const UPSTREAM_KEY = 'sk-upstream-7f3a9c1e5b2d4f60';
  const PASSWORD = 'pw-tenant-admin-4b8e2c6a0d';
  const PII = ['jane.doe.private@example.com', '+44 7700 900123'];
  const bodies: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    fake = await FakeLlm.start({ reply: 'Noted.' });
    api = spawnDist(
      'apps/api/src/main.js',
      testEnv({
        ...database.env,
        ...fakeLlmEnv(fake.url, { LLM_API_KEY: UPSTREAM_KEY }),
        PORT: '0',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'debug',
        LLM_TIMEOUT_MS: '300',
      }),
    );
    base = `http://127.0.0.1:${await api.listening}`;
  });
  afterAll(async () => {
    await api?.stop();
    await fake?.close();
    await database?.drop();
  });

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await callJson(base, method, path, body, token);
    bodies.push(res.raw);
    return res;
  };

  it('keeps credentials, keys and message content out of every line and body', async () => {
    const root = (await call('POST', '/v1/auth/login', ROOT)).body.accessToken as string;
    const name = `secrets-${Date.now()}`;
    const email = `admin@${name}.test`;
    await call(
      'POST',
      '/v1/admin/tenants',
      { name, adminEmail: email, adminPassword: PASSWORD },
      root,
    );
    const tokens = (
      await call('POST', '/v1/auth/login', { email, password: PASSWORD, tenant: name })
    ).body as { accessToken: string; refreshToken: string };
    // Refusals: a wrong password, a bad token, a reused refresh token.
    expect(
      (await call('POST', '/v1/auth/login', { email, password: `${PASSWORD}x`, tenant: name }))
        .status,
    ).toBe(401);
    expect(
      (await call('GET', '/v1/conversations', undefined, `${tokens.accessToken}x`)).status,
    ).toBe(401);
    const refreshed = await call('POST', '/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(
      (await call('POST', '/v1/auth/refresh', { refreshToken: tokens.refreshToken })).status,
    ).toBe(401);
    const access = refreshed.body.accessToken as string;
    const key = (await call('POST', '/v1/api-keys', { name: 'bot', scopes: ['chat'] }, access)).body
      .key as string;

    // Upstream faults while a user writes personal data.
    const conversation = (await call('POST', '/v1/conversations', {}, key)).body;
    const content = `My email is ${PII[0]} and my phone ${PII[1]}; where is my parcel?`;
    fake.failNext({
      kind: 'status',
      status: 401,
      body: { error: { message: `bad key ${UPSTREAM_KEY}` } },
    });
    const rejected = await call(
      'POST',
      `/v1/conversations/${conversation.id}/messages`,
      { content },
      key,
    );
    expect(rejected.status).toBeGreaterThanOrEqual(400);
    fake.failNext({ kind: 'hang' }, { times: 5 });
    await call('POST', `/v1/conversations/${conversation.id}/messages`, { content }, key);
    fake.reset();
    fake.failNext({ kind: 'drop-mid-stream', afterChunks: 1 });
    await call('POST', `/v1/conversations/${conversation.id}/messages`, { content }, key);
    expect(
      (await call('POST', `/v1/conversations/${conversation.id}/messages`, { content }, key))
        .status,
    ).toBe(201);

    await sleep(500);
    const output = api.output();
    // The logs did record the traffic (so the check is not vacuous)...
    expect(output).toContain('request completed');
    expect(output).toContain(conversation.id);
    // ...and none of what must not be there.
    const secrets = [
      PASSWORD,
      ROOT.password,
      UPSTREAM_KEY,
      root,
      tokens.accessToken,
      tokens.refreshToken,
      access,
      key,
      ...PII,
    ];
    expect(leaks(output, secrets)).toEqual([]);
    expect(leaks(bodies.join('\n'), [PASSWORD, ROOT.password, UPSTREAM_KEY, ...PII])).toEqual([]);
  });
});

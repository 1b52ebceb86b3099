import { Clock } from '@parley/core';
import { parseUsd, ReservationSweeper } from '@parley/cost';
import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import { Client, login } from '../support/identity';
import { spawnDist, type SpawnedProcess } from '../support/spawned-process';
import { createTestApp, ROOT, testEnv, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * A request whose process is killed never settles: its reservation must not stay reserved
 * forever. A real server process is killed (SIGKILL) mid-request, and a new instance on the
 * same database releases the reservation once it has expired.
 */
describe('reservation sweeper', () => {
  let fake: FakeLlm;
  let database: TestDatabase;
  let api: SpawnedProcess | undefined;
  let t: TestApp | undefined;
  const env = {
    LLM_MODEL: 'fake-model',
    LLM_API_KEY: 'sk-test',
    COST_RESERVATION_TIMEOUT_SECONDS: '60',
  };

  beforeAll(async () => {
    fake = await FakeLlm.start();
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await api?.stop('SIGKILL');
    await t?.close();
    await fake?.close();
  });

  it('releases a killed request’s reservation after it expires, and not before', async () => {
    api = spawnDist(
      'apps/api/src/main.js',
      testEnv({ ...database.env, ...env, LLM_BASE_URL: fake.url, PORT: '0' }),
    );
    const base = `http://127.0.0.1:${await api.listening}`;
    const { accessToken } = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ROOT),
    }).then((r) => r.json() as Promise<{ accessToken: string }>);
    fake.failNext({ kind: 'hang' });
    const inFlight = fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'Hello' }] }),
    }).catch(() => undefined);
    // The upstream call starts only after the reservation is committed.
    await fake.waitForRequest((r) => r.path.endsWith('/chat/completions'));
    await api.stop('SIGKILL');
    await inFlight;

    t = await createTestApp({
      database,
      env: { ...env, LLM_BASE_URL: fake.url, PGLITE_LOCK_WAIT_MS: '30000' },
    });
    const db = t.app.get(DataSource);
    const held: { id: string; amount: string }[] = await db.query(
      `SELECT id, amount_usd::text AS amount FROM cost_reservations WHERE status = 'held'`,
    );
    expect(held).toHaveLength(1);
    const root = new Client(t.app, (await login(t.app, ROOT.email, ROOT.password)).accessToken);
    const reserved = async () =>
      (await root.get('/v1/usage/budgets')).body.items.find(
        (b: { scope: string }) => b.scope === 'tenant',
      ).reservedUsd as string;
    expect(parseUsd(await reserved())).toBe(parseUsd(held[0]!.amount));

    const sweeper = t.app.get(ReservationSweeper);
    expect(await sweeper.tick()).toBe(0); // it has not expired yet
    jest.spyOn(t.app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 61_000));
    expect(await sweeper.tick()).toBe(1);
    jest.restoreAllMocks();
    expect(await reserved()).toBe('0.000000000');
    const [row] = await db.query('SELECT status FROM cost_reservations WHERE id = $1', [
      held[0]!.id,
    ]);
    expect(row.status).toBe('expired');
  });
});

import { Client } from 'pg';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestTenant, type TestUser } from '../support/identity';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { describeWhen, servicesMode } from '../support/skip';
import { proxied, type TcpProxy } from '../support/tcp-proxy';
import { createTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { within } from './invariants';

/**
 * PostgreSQL's connections are reset in the middle of chat turns (through a proxy the test
 * cuts), then the database is reachable again. The process must not crash, the requests in
 * flight must end (503 DATABASE_UNAVAILABLE, not 500, not a hang), readiness must report the
 * outage and recover by itself, and afterwards nothing may stay reserved.
 */
describeWhen(servicesMode, 'a PostgreSQL outage needs DATABASE_URL (services mode)')(
  'reliability: PostgreSQL connections reset mid-request',
  () => {
    let database: TestDatabase;
    let proxy: TcpProxy;
    let fake: FakeLlm;
    let t: TestApp;
    let tenant: TestTenant;
    let member: TestUser;

    beforeAll(async () => {
      database = await createTestDatabase();
      const through = await proxied(database.env.DATABASE_URL!, 5432);
      proxy = through.proxy;
      fake = await FakeLlm.start({ reply: 'A slow answer that takes a while to arrive in full.' });
      t = await createTestApp({
        database: { ...database, env: { ...database.env, DATABASE_URL: through.url } },
        env: {
          ...fakeLlmEnv(fake.url),
          // A reservation whose settlement could not be written is released by the sweeper.
          COST_RESERVATION_TIMEOUT_SECONDS: '10',
          COST_SWEEP_INTERVAL_SECONDS: '1',
        },
      });
      tenant = await createTenant(t.app);
      member = await createUser(tenant);
    });
    afterAll(async () => {
      proxy?.restore();
      await t?.close();
      await proxy?.stop();
      await fake?.close();
      await database?.drop();
    });

    const ready = async () =>
      (await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode;

    it('ends the requests in flight with 503, reports the outage, and recovers alone', async () => {
      const conversation = (await member.client.post('/v1/conversations', {})).body;
      fake.configure({ tokenDelayMs: 80 });
      const inFlight = member.client.post(`/v1/conversations/${conversation.id}/messages`, {
        content: 'Answer slowly, please.',
      });
      await fake.waitForRequest((r) => r.path.endsWith('/chat/completions'));
      proxy.cut();
      const res = await inFlight;
      // The answer could not be stored: the caller is told to retry, and no stack leaks.
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('5');
      expect(res.raw).not.toMatch(/\bat .+\.(ts|js):\d+/);

      const refused = await member.client.post('/v1/conversations', {});
      expect(refused.status).toBe(503);
      expect(await ready()).toBe(503);
      expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

      proxy.restore();
      fake.configure({ tokenDelayMs: 0 });
      const recoveredMs = await within(30_000, async () => (await ready()) === 200, 'readiness');
      const after = await member.client.post(`/v1/conversations/${conversation.id}/messages`, {
        content: 'And now?',
      });
      expect(after.status).toBe(201);
      expect(recoveredMs).toBeLessThan(30_000);

      // Quiet: the reservation of the cut turn was released (by the sweeper), nothing held.
      const admin = new Client({ connectionString: database.env.DATABASE_URL! });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        await within(
          20_000,
          async () =>
            (
              await admin.query(
                `SELECT count(*)::int AS n FROM cost_reservations WHERE tenant_id = $1 AND status = 'held'`,
                [tenant.id],
              )
            ).rows[0].n === 0,
          'no reservation held',
        );
        const { rows } = await admin.query(
          `SELECT coalesce(sum(reserved_usd), 0)::float AS reserved FROM budget_counters WHERE budget_key = $1`,
          [`tenant:${tenant.id}`],
        );
        expect(rows[0].reserved).toBe(0);
      } finally {
        await admin.end();
      }
    });
  },
);

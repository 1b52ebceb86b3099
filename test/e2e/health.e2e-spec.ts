import { proxied, type TcpProxy } from '../support/tcp-proxy';
import { describeWhen, redisConfigured, servicesMode } from '../support/skip';
import { createTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('health probes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('answers /health/live with 200', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers /health/ready with 200 once every dependency is up', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(200);
    const { checks } = res.json();
    expect(checks.database.status).toBe('up');
    expect(checks.queue.status).toBe('up');
    if (redisConfigured) expect(checks.redis.status).toBe('up');
    else expect(checks.redis).toBeUndefined();
  });
});

describeWhen(
  servicesMode,
  'readiness with an unreachable database needs DATABASE_URL (services mode); PGlite runs inside the process',
)('readiness when PostgreSQL becomes unreachable', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    // The app reaches PostgreSQL only through the proxy, so cutting it is a real outage.
    const through = await proxied(database.env.DATABASE_URL!, 5432);
    proxy = through.proxy;
    t = await createTestApp({
      database: { ...database, env: { ...database.env, DATABASE_URL: through.url } },
    });
  });
  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await proxy?.stop();
    await database?.drop();
  });

  it('answers 503 NOT_READY naming the database, and recovers when it is back', async () => {
    proxy.cut();
    const down = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = down.json();
    expect(body.code).toBe('NOT_READY');
    expect(body.detail).toMatch(/database/);
    expect(body.checks.database.status).toBe('down');
    const live = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);

    proxy.restore();
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });
});

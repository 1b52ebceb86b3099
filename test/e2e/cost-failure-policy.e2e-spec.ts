import { CostMetrics } from '@parley/cost';
import { Client as PgClient } from 'pg';
import { FakeLlm } from '../support/fake-llm';
import { Client, createTenant, createUser, login } from '../support/identity';
import { describeWhen, servicesMode } from '../support/skip';
import { createTestApp, ROOT, type TestApp } from '../support/test-app';

/**
 * When the budget store cannot answer in time, a request is refused (fail closed) unless its
 * tenant chose fail-open; each fail-open admission is counted and audited. The store is made
 * unreachable for real: another session holds an exclusive lock on the budget counters.
 */
describeWhen(
  servicesMode,
  'PGlite runs one transaction at a time, so a lock held by another session queues the request instead of timing it out',
)('budget store failure policy', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let locker: PgClient;

  beforeAll(async () => {
    fake = await FakeLlm.start();
    t = await createTestApp({
      env: {
        LLM_BASE_URL: fake.url,
        LLM_MODEL: 'fake-model',
        LLM_API_KEY: 'sk-test',
        COST_STORE_TIMEOUT_MS: '300',
      },
    });
    locker = new PgClient({ connectionString: t.database.env.DATABASE_URL });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await t?.close();
    await fake?.close();
  });

  it('refuses with 503 by default, and admits, counts and audits when the tenant fails open', async () => {
    const tenant = await createTenant(t.app);
    const member = await createUser(tenant);
    const root = new Client(t.app, (await login(t.app, ROOT.email, ROOT.password)).accessToken);
    const id = (await member.client.post('/v1/conversations', {})).body.id;
    const send = () => member.client.post(`/v1/conversations/${id}/messages`, { content: 'Hi' });
    expect((await send()).status).toBe(201); // the counters exist and work

    await locker.query('BEGIN');
    await locker.query('LOCK TABLE budget_counters IN EXCLUSIVE MODE');
    fake.reset();
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('BUDGET_STORE_UNAVAILABLE');
    expect(refused.headers['retry-after']).toBeDefined();
    expect(fake.requests).toHaveLength(0);

    // Only a superadmin may let a tenant fail open.
    const own = await tenant.admin.client.put('/v1/admin/cost-settings', { failOpen: true });
    expect(own.status).toBe(403);
    const set = await root.put(`/v1/admin/cost-settings?tenantId=${tenant.id}`, {
      failOpen: true,
    });
    expect(set.status).toBe(200);
    expect(set.body.failOpen).toBe(true);

    const metrics = t.app.get(CostMetrics);
    const before = metrics.failOpenAdmissions;
    const admitted = send();
    await fake.waitForRequest(); // admitted without a reservation, and sent upstream
    await locker.query('COMMIT'); // the store is back in time for the settlement
    expect((await admitted).status).toBe(201);
    expect(metrics.failOpenAdmissions).toBe(before + 1);
    const audit = await tenant.admin.client.get('/v1/admin/audit-logs?action=budget.fail_open');
    expect(audit.body.items).toHaveLength(1);
    // The spend still lands on the budget once the store answers again.
    const daily = (await member.client.get('/v1/usage/budgets')).body.items.find(
      (b: { scope: string }) => b.scope === 'tenant',
    );
    expect(daily.reservedUsd).toBe('0.000000000');
    expect(Number(daily.spentUsd)).toBeGreaterThan(0);
  });
});

import { formatUsd, parseUsd } from '@parley/cost';
import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import { Client, createApiKey, createTenant, login, type TestTenant } from '../support/identity';
import { describeWhen, servicesMode } from '../support/skip';
import { createTestApp, ROOT, type TestApp } from '../support/test-app';

const PARALLEL = 200;
const FITS = 50;
const BODY = {
  model: 'default',
  max_tokens: 300,
  messages: [{ role: 'user', content: 'What does the warranty cover?' }],
};
const ENV = { LLM_MODEL: 'fake-model', LLM_API_KEY: 'sk-test', RATE_LIMIT_CHAT: '100000/60' };

/**
 * Budgets cannot be raced: 200 parallel requests against a daily budget that fits exactly 50
 * worst-case reservations. The fake upstream reports usage equal to the worst case, so a
 * settled call frees nothing for a later one: exactly 50 may pass.
 */
async function race(apps: TestApp[], fake: FakeLlm): Promise<void> {
  const [first] = apps;
  const root = new Client(
    first!.app,
    (await login(first!.app, ROOT.email, ROOT.password)).accessToken,
  );
  const tenant: TestTenant = await createTenant(first!.app);
  const key = await createApiKey(tenant.admin.client, ['chat']);
  // The worst case of this request, read from the per-request cap's refusal.
  await root.put('/v1/admin/budgets', {
    budgets: [
      {
        scope: 'tenant',
        scopeId: tenant.id,
        period: 'day',
        limitUsd: '1',
        perRequestLimitUsd: '0.000000001',
      },
    ],
  });
  const probe = await new Client(first!.app, key.key).post('/v1/chat/completions', BODY);
  expect(probe.body.code).toBe('REQUEST_COST_LIMIT');
  const estimate = parseUsd(probe.body.estimateUsd);
  const limit = estimate * BigInt(FITS);
  const limitUsd = formatUsd(limit);
  await root.put('/v1/admin/budgets', {
    budgets: [{ scope: 'tenant', scopeId: tenant.id, period: 'day', limitUsd }],
  });
  fake.reset();
  fake.configure({
    usage: { prompt: probe.body.promptTokens, completion: BODY.max_tokens },
    ttftMs: 20,
  });

  const clients = apps.map((a) => new Client(a.app, key.key));
  const results = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      clients[i % clients.length]!.post('/v1/chat/completions', BODY),
    ),
  );
  const statuses = results.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(FITS);
  expect(statuses.filter((s) => s === 402)).toHaveLength(PARALLEL - FITS);
  expect(
    results.filter((r) => r.status === 402).every((r) => r.body.code === 'BUDGET_EXCEEDED'),
  ).toBe(true);
  expect(fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(FITS);

  const db = first!.app.get(DataSource);
  const [counter] = await db.query(
    `SELECT spent_usd::text AS spent, reserved_usd::text AS reserved, limit_usd::text AS lim
       FROM budget_counters WHERE budget_key = $1`,
    [`tenant:${tenant.id}`],
  );
  expect(parseUsd(counter.spent)).toBeLessThanOrEqual(parseUsd(counter.lim));
  expect(parseUsd(counter.spent)).toBe(limit);
  expect(counter.reserved).toBe('0.000000000');
  const [ledger] = await db.query(
    `SELECT count(*)::int AS calls, sum(cost_usd)::numeric(20, 9)::text AS cost
       FROM usage_ledger WHERE tenant_id = $1 AND status = 'complete'`,
    [tenant.id],
  );
  expect(ledger).toEqual({ calls: FITS, cost: counter.spent });
}

describe('budget reservations under concurrency', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await FakeLlm.start();
    t = await createTestApp({ env: { ...ENV, LLM_BASE_URL: fake.url } });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it(`admits exactly ${FITS} of ${PARALLEL} parallel requests on one instance`, async () => {
    await race([t], fake);
  });
});

describeWhen(
  servicesMode,
  'two instances on one database need PostgreSQL (embedded PGlite serves one process)',
)('budget reservations across two instances', () => {
  let fake: FakeLlm;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    fake = await FakeLlm.start();
    a = await createTestApp({ env: { ...ENV, LLM_BASE_URL: fake.url } });
    b = await createTestApp({ database: a.database, env: { ...ENV, LLM_BASE_URL: fake.url } });
  });
  afterAll(async () => {
    await b?.app.close();
    await a?.close();
    await fake?.close();
  });

  it(`admits exactly ${FITS} of ${PARALLEL} requests split over two instances`, async () => {
    await race([a, b], fake);
  });
});

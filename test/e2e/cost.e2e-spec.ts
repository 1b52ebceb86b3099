import { Clock } from '@parley/core';
import { CostService, formatUsd, parseUsd, perMillion } from '@parley/cost';
import { countMessageTokens, countTextTokens } from '@parley/llm';
import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import { openEventStream } from '../support/sse-client';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  streamUnchecked,
  login,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { createTestApp, ROOT, type TestApp } from '../support/test-app';

// config/pricing.test.yaml: fake-model costs $2 per million input tokens, $0.50 per million
// cached input tokens and $8 per million output tokens.
const PRICE = { input: parseUsd('2'), cached: parseUsd('0.5'), output: parseUsd('8') };
const REPLY = 'Refunds take five to seven working days once the parcel is back with us.';
const LLM_ENV = {
  LLM_BASE_URL: '',
  LLM_MODEL: 'fake-model',
  LLM_API_KEY: 'sk-test',
  RATE_LIMIT_CHAT: '100000/60',
  RATE_LIMIT_AUTH: '1000/60', // every test logs its own tenant and users in
};

interface LedgerRow {
  kind: string;
  model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_usd: string;
  status: string;
  cache_hit: boolean;
  user_id: string | null;
  api_key_id: string | null;
  conversation_id: string | null;
}

describe('cost control', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let root: Client;
  let db: DataSource;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: REPLY });
    t = await createTestApp({ env: { ...LLM_ENV, LLM_BASE_URL: fake.url } });
    root = new Client(t.app, (await login(t.app, ROOT.email, ROOT.password)).accessToken);
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());
  afterEach(() => jest.restoreAllMocks());

  const ledger = (tenantId: string): Promise<LedgerRow[]> =>
    db.query(
      `SELECT kind, model, prompt_tokens, completion_tokens, cached_tokens, cost_usd::text, status,
              cache_hit, user_id, api_key_id, conversation_id
         FROM usage_ledger WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenantId],
    );
  const chatCalls = () => fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
  const converse = async (client: Client) =>
    (await client.post('/v1/conversations', {})).body.id as string;
  const myBudgets = async (client: Client) =>
    (await client.get('/v1/usage/budgets')).body.items as {
      scope: string;
      period: string;
      limitUsd: string;
      spentUsd: string;
      reservedUsd: string;
      remainingUsd: string;
      resetsAt: string;
    }[];

  describe('admission', () => {
    let tenant: TestTenant;
    let member: TestUser;
    beforeAll(async () => {
      tenant = await createTenant(t.app);
      member = await createUser(tenant);
    });

    it('refuses a request over the per-request cap with 402 before calling the model', async () => {
      // A cap of $0.10 per request for this user; 32,768 output tokens at $8 per million
      // could cost $0.26.
      const capped = await tenant.admin.client.put('/v1/admin/budgets', {
        budgets: [
          {
            scope: 'user',
            scopeId: member.id,
            period: 'month',
            limitUsd: '20',
            perRequestLimitUsd: '0.10',
          },
        ],
      });
      expect(capped.status).toBe(200);
      const id = await converse(member.client);
      const res = await member.client.post(`/v1/conversations/${id}/messages`, {
        content: 'Write me a novel.',
        maxTokens: 32_768,
      });
      expect(res.status).toBe(402);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'REQUEST_COST_LIMIT', limitUsd: '0.100000000' });
      expect(parseUsd(res.body.estimateUsd)).toBeGreaterThan(parseUsd('0.26'));
      expect(res.body.maxOutputTokens).toBe(32_768);
      expect(res.body.detail).toMatch(/Lower max_tokens/);
      expect(chatCalls()).toHaveLength(0);
      // Nothing was reserved or spent, and a smaller request passes.
      const daily = (await myBudgets(member.client)).find((b) => b.scope === 'tenant')!;
      expect(daily).toMatchObject({ spentUsd: '0.000000000', reservedUsd: '0.000000000' });
      const small = await member.client.post(`/v1/conversations/${id}/messages`, {
        content: 'Just a haiku.',
        maxTokens: 200,
      });
      expect(small.status).toBe(201);
    });

    it('validates tenant prices, and lists them over pricing.yaml', async () => {
      const admin = tenant.admin.client;
      const bad = await admin.put('/v1/admin/pricing/fake-model', { inputPerMTok: '-1' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(
        expect.arrayContaining(['inputPerMTok', 'outputPerMTok']),
      );
      expect(
        (await admin.put('/v1/admin/pricing/bad%20name', { inputPerMTok: '1', outputPerMTok: '1' }))
          .status,
      ).toBe(400);
      const set = await admin.put('/v1/admin/pricing/fake-fallback', {
        inputPerMTok: '1.3',
        outputPerMTok: '4.9',
      });
      expect(set.body).toEqual({
        model: 'fake-fallback',
        inputPerMTok: '1.300000000',
        cachedInputPerMTok: '1.300000000',
        outputPerMTok: '4.900000000',
        source: 'tenant',
      });
      const listed = (await admin.get('/v1/admin/pricing')).body.items;
      expect(listed).toContainEqual(
        expect.objectContaining({ model: 'fake-fallback', source: 'tenant' }),
      );
      expect(listed).toContainEqual(
        expect.objectContaining({
          model: 'fake-model',
          inputPerMTok: '2.000000000',
          source: 'config',
        }),
      );
      expect((await admin.request('DELETE', '/v1/admin/pricing/fake-fallback')).status).toBe(204);
      expect((await admin.request('DELETE', '/v1/admin/pricing/fake-fallback')).status).toBe(404);
      expect((await member.client.get('/v1/admin/pricing')).status).toBe(403);
    });

    it('lets a tenant admin only raise a price; lowering it is a superadmin’s', async () => {
      const admin = tenant.admin.client;
      fake.configure({ usage: { prompt: 1000, completion: 1000 } });
      const id = await converse(member.client);
      const cost = async () => {
        const res = await member.client.post(`/v1/conversations/${id}/messages`, {
          content: 'Hi',
          maxTokens: 1000,
        });
        expect(res.status).toBe(201);
        return res.body.assistantMessage.costUsd as string;
      };
      // Free, or cheaper in any one component (cached input too): refused, naming the minimums.
      const free = await admin.put('/v1/admin/pricing/fake-model', {
        inputPerMTok: '0',
        outputPerMTok: '0',
      });
      expect(free.status).toBe(403);
      expect(free.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(free.body).toMatchObject({
        code: 'PRICE_LOWERING_FORBIDDEN',
        model: 'fake-model',
        minimum: {
          inputPerMTok: '2.000000000',
          cachedInputPerMTok: '0.500000000',
          outputPerMTok: '8.000000000',
        },
        below: ['inputPerMTok', 'cachedInputPerMTok', 'outputPerMTok'],
      });
      expect(free.body.detail).toMatch(/may only raise/);
      const cheaperCache = await admin.put('/v1/admin/pricing/fake-model', {
        inputPerMTok: '3',
        outputPerMTok: '9',
        cachedInputPerMTok: '0.1',
      });
      expect([cheaperCache.status, cheaperCache.body.below]).toEqual([403, ['cachedInputPerMTok']]);
      expect(
        (
          await admin.put('/v1/admin/pricing/openai%2Ffake-model', {
            inputPerMTok: '1',
            outputPerMTok: '9',
          })
        ).body.below,
      ).toEqual(['inputPerMTok']);
      expect(await cost()).toBe('0.010000000'); // 1,000 × $2 + 1,000 × $8 per million
      // Raising it (chargeback) is theirs to do.
      const raised = await admin.put('/v1/admin/pricing/fake-model', {
        inputPerMTok: '3',
        outputPerMTok: '9',
      });
      expect(raised.status).toBe(200);
      expect(await cost()).toBe('0.012000000');
      // Nor may they price another tenant's models.
      const other = await createTenant(t.app);
      const elsewhere = await admin.put(`/v1/admin/pricing/fake-model?tenantId=${other.id}`, {
        inputPerMTok: '3',
        outputPerMTok: '9',
      });
      expect([elsewhere.status, elsewhere.body.code]).toEqual([403, 'FORBIDDEN']);
      // A superadmin may give the tenant a discount.
      const discount = await root.put(`/v1/admin/pricing/fake-model?tenantId=${tenant.id}`, {
        inputPerMTok: '0.5',
        outputPerMTok: '1',
      });
      expect(discount.status).toBe(200);
      expect(await cost()).toBe('0.001500000');
      // A tenant admin's override never applies below the configured price, e.g. one set
      // before this rule, or once pricing.yaml has raised the price above it.
      expect(
        (await admin.put('/v1/admin/pricing/fake-model', { inputPerMTok: '2', outputPerMTok: '8' }))
          .status,
      ).toBe(200);
      await db.query(
        `UPDATE model_prices SET input_per_mtok = 0, output_per_mtok = 0, cached_input_per_mtok = 0
          WHERE tenant_id = $1 AND model = 'fake-model'`,
        [tenant.id],
      );
      expect(await cost()).toBe('0.010000000');
      const listed = (await admin.get('/v1/admin/pricing')).body.items;
      expect(listed).toContainEqual({
        model: 'fake-model',
        inputPerMTok: '2.000000000',
        cachedInputPerMTok: '0.500000000',
        outputPerMTok: '8.000000000',
        source: 'tenant',
      });
      expect((await admin.request('DELETE', '/v1/admin/pricing/fake-model')).status).toBe(204);
    });
  });

  describe('a model without a price', () => {
    let unpriced: TestApp;
    beforeAll(async () => {
      unpriced = await createTestApp({
        env: { ...LLM_ENV, LLM_BASE_URL: fake.url, LLM_MODEL: 'unpriced-model' },
      });
    });
    afterAll(() => unpriced?.close());

    it('is refused with 422 before the upstream is called, until the tenant prices it', async () => {
      const tenant = await createTenant(unpriced.app);
      const member = await createUser(tenant);
      const id = (await member.client.post('/v1/conversations', {})).body.id;
      const res = await member.client.post(`/v1/conversations/${id}/messages`, { content: 'Hi' });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('MODEL_NOT_PRICED');
      expect(res.body.detail).toMatch(/pricing\.yaml/);
      expect(chatCalls()).toHaveLength(0);
      // With no price to raise, a tenant admin cannot price it (that could be at zero)…
      const price = { inputPerMTok: '1', outputPerMTok: '2' };
      const own = await tenant.admin.client.put('/v1/admin/pricing/unpriced-model', price);
      expect(own.status).toBe(403);
      expect(own.body).toMatchObject({ code: 'PRICE_LOWERING_FORBIDDEN', minimum: null });
      expect(own.body.detail).toMatch(/only a superadmin/);
      // … a superadmin can.
      const root = new Client(
        unpriced.app,
        (await login(unpriced.app, ROOT.email, ROOT.password)).accessToken,
      );
      const priced = await root.put(
        `/v1/admin/pricing/unpriced-model?tenantId=${tenant.id}`,
        price,
      );
      expect(priced.status).toBe(200);
      const ok = await member.client.post(`/v1/conversations/${id}/messages`, { content: 'Hi' });
      expect(ok.status).toBe(201);
      expect(parseUsd(ok.body.assistantMessage.costUsd)).toBeGreaterThan(0n);
    });
  });

  describe('settlement', () => {
    let tenant: TestTenant;
    let member: TestUser;
    beforeAll(async () => {
      tenant = await createTenant(t.app);
      member = await createUser(tenant);
    });

    it('settles to the provider’s usage at the configured prices, to the nano-dollar', async () => {
      fake.configure({ usage: { prompt: 1234, completion: 567, cached: 200 } });
      const before = (await ledger(tenant.id)).length;
      const id = await converse(member.client);
      const res = await member.client.post(`/v1/conversations/${id}/messages`, {
        content: 'How long do refunds take?',
      });
      expect(res.status).toBe(201);
      // 1,034 uncached × $2 + 200 cached × $0.50 + 567 output × $8, per million tokens.
      const expected = '0.006704000';
      expect(res.body.assistantMessage.costUsd).toBe(expected);
      const row = (await ledger(tenant.id)).slice(before)[0]!;
      expect(row).toMatchObject({
        kind: 'chat',
        model: 'fake-model',
        prompt_tokens: 1234,
        completion_tokens: 567,
        cached_tokens: 200,
        cost_usd: expected,
        status: 'complete',
        user_id: member.id,
        conversation_id: id,
      });
      const daily = (await myBudgets(member.client)).find((b) => b.scope === 'tenant')!;
      expect(daily.spentUsd).toBe(expected);
      expect(daily.reservedUsd).toBe('0.000000000');
      expect(daily.remainingUsd).toBe(formatUsd(parseUsd('100') - parseUsd(expected)));
    });

    it('costs a streamed request exactly like the same request not streamed', async () => {
      fake.configure({ usage: { prompt: 812, completion: 333 } });
      const key = await createApiKey(member.client, ['chat']);
      const client = new Client(t.app, key.key);
      const body = {
        model: 'default',
        messages: [{ role: 'user', content: 'Summarise the refund policy.' }],
      };
      const before = (await ledger(tenant.id)).length;
      expect((await client.post('/v1/chat/completions', body)).status).toBe(200);
      const streamed = await client.post('/v1/chat/completions', { ...body, stream: true });
      expect(streamed.status).toBe(200);
      expect(streamed.raw).toContain('[DONE]');
      const id = await converse(client);
      await client.post(`/v1/conversations/${id}/messages`, { content: 'Same again' });
      await client.post(
        `/v1/conversations/${id}/messages`,
        { content: 'Same again' },
        { accept: 'text/event-stream' },
      );
      const rows = (await ledger(tenant.id)).slice(before);
      expect(rows).toHaveLength(4);
      const expected = formatUsd(perMillion(812, PRICE.input) + perMillion(333, PRICE.output));
      expect(rows.map((r) => r.cost_usd)).toEqual([expected, expected, expected, expected]);
      expect(rows.every((r) => r.api_key_id === key.id && r.user_id === null)).toBe(true);
    });

    it('counts the tokens itself when the provider reports no usage', async () => {
      fake.configure({ usage: { omit: true } });
      const before = (await ledger(tenant.id)).length;
      const id = await converse(member.client);
      const res = await member.client.post(`/v1/conversations/${id}/messages`, {
        content: 'And exchanges?',
      });
      expect(res.status).toBe(201);
      const row = (await ledger(tenant.id)).slice(before)[0]!;
      expect(row.completion_tokens).toBe(Math.ceil(countTextTokens('fake-model', REPLY)));
      expect(row.prompt_tokens).toBeGreaterThan(0);
      expect(row.cost_usd).toBe(
        formatUsd(
          perMillion(row.prompt_tokens, PRICE.input) +
            perMillion(row.completion_tokens, PRICE.output),
        ),
      );
    });

    it('settles a cancelled stream to its input plus what was generated', async () => {
      await streamUnchecked(tenant);
      fake.configure({ tokenDelayMs: 150 });
      const id = await converse(member.client);
      const controller = new AbortController();
      const stream = await openEventStream(
        t.app,
        `/v1/conversations/${id}/messages`,
        member.client.credential!,
        { content: 'Take your time' },
        controller.signal,
      );
      await stream.readUntil('event: delta');
      controller.abort();
      await fake.waitForClientAbort();
      let row: LedgerRow | undefined;
      for (let i = 0; i < 50 && !row; i++) {
        row = (await ledger(tenant.id)).find(
          (r) => r.conversation_id === id && r.status === 'aborted',
        );
        if (!row) await new Promise((r) => setTimeout(r, 100));
      }
      const messages = (await member.client.get(`/v1/conversations/${id}/messages`)).body.items;
      const partial = messages.find((m: { role: string }) => m.role === 'assistant').content;
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(REPLY.length);
      const system = t.config.conversation.systemPrompt;
      expect(row!.prompt_tokens).toBe(
        countMessageTokens('fake-model', [
          { role: 'system', content: system },
          { role: 'user', content: 'Take your time' },
        ]),
      );
      expect(row!.completion_tokens).toBe(countTextTokens('fake-model', partial));
      expect(row!.cost_usd).toBe(
        formatUsd(
          perMillion(row!.prompt_tokens, PRICE.input) +
            perMillion(row!.completion_tokens, PRICE.output),
        ),
      );
      const daily = (await myBudgets(member.client)).find((b) => b.scope === 'tenant')!;
      expect(daily.reservedUsd).toBe('0.000000000');
    });

    it('settles a call the model never answered to nothing', async () => {
      fake.failNext({ kind: 'status', status: 400 });
      const before = (await ledger(tenant.id)).length;
      const id = await converse(member.client);
      const res = await member.client.post(`/v1/conversations/${id}/messages`, { content: 'x' });
      expect(res.status).toBe(502);
      const row = (await ledger(tenant.id)).slice(before)[0]!;
      expect(row).toMatchObject({ status: 'failed', cost_usd: '0.000000000', model: null });
      const daily = (await myBudgets(member.client)).find((b) => b.scope === 'tenant')!;
      expect(daily.reservedUsd).toBe('0.000000000');
    });
  });

  describe('budgets', () => {
    it('lets tenant admins set user and key budgets, and only superadmins tenant and global ones', async () => {
      const tenant = await createTenant(t.app);
      const member = await createUser(tenant);
      const admin = tenant.admin.client;
      const userBudget = { scope: 'user', scopeId: member.id, period: 'day', limitUsd: '1.5' };
      const set = await admin.put('/v1/admin/budgets', { budgets: [userBudget] });
      expect(set.status).toBe(200);
      expect(set.body.budgets[0]).toMatchObject({
        scope: 'user',
        scopeId: member.id,
        limitUsd: '1.500000000',
        source: 'override',
      });
      const key = await createApiKey(member.client, ['chat']);
      const keyBudget = await admin.put('/v1/admin/budgets', {
        budgets: [{ scope: 'apiKey', scopeId: key.id, period: 'month', limitUsd: '30' }],
      });
      expect(keyBudget.status).toBe(200);
      const keyView = (await new Client(t.app, key.key).get('/v1/usage/budgets')).status;
      expect(keyView).toBe(403); // a key needs the usage:read scope to see its budgets
      expect(
        (
          await admin.put('/v1/admin/budgets', {
            budgets: [{ scope: 'user', period: 'day', limitUsd: '1' }],
          })
        ).body.errors[0].field,
      ).toBe('scopeId');
      const tenantBudget = { scope: 'tenant', period: 'day', limitUsd: '1000' };
      expect((await admin.put('/v1/admin/budgets', { budgets: [tenantBudget] })).status).toBe(403);
      expect(
        (await admin.put('/v1/admin/budgets', { budgets: [{ ...tenantBudget, scope: 'global' }] }))
          .status,
      ).toBe(403);
      // Another tenant's user is out of reach: 404, and nothing of the batch is written.
      const other = await createTenant(t.app);
      const outsider = await createUser(other);
      const mixed = await admin.put('/v1/admin/budgets', {
        budgets: [
          { ...userBudget, limitUsd: '9' },
          { scope: 'user', scopeId: outsider.id, period: 'day', limitUsd: '1' },
        ],
      });
      expect(mixed.status).toBe(404);
      const listed = await admin.get('/v1/admin/budgets');
      expect(listed.body.budgets.map((b: { limitUsd: string }) => b.limitUsd).sort()).toEqual([
        '1.500000000',
        '30.000000000',
      ]);
      expect(listed.body.defaults).toContainEqual(
        expect.objectContaining({ scope: 'tenant', period: 'day', limitUsd: '100.000000000' }),
      );
      // Bad input says what to fix.
      const bad = await admin.put('/v1/admin/budgets', {
        budgets: [{ scope: 'team', period: 'week', limitUsd: '1.2.3' }],
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        'budgets.0.limitUsd',
        'budgets.0.period',
        'budgets.0.scope',
      ]);
      // The member sees the budgets that apply to them.
      const mine = await myBudgets(member.client);
      expect(mine.map((b) => `${b.scope}/${b.period}/${b.limitUsd}`).sort()).toEqual([
        'tenant/day/100.000000000',
        'user/day/1.500000000',
      ]);
      const removed = await admin.request(
        'DELETE',
        `/v1/admin/budgets?scope=user&scopeId=${member.id}&period=day`,
      );
      expect(removed.status).toBe(204);
      expect((await myBudgets(member.client)).map((b) => b.scope)).toEqual(['tenant']);
    });

    it('refuses with 402 BUDGET_EXCEEDED naming the budget, and audits the threshold and exhaustion once', async () => {
      const tenant = await createTenant(t.app);
      const member = await createUser(tenant);
      fake.configure({ usage: { prompt: 1000, completion: 1000 } }); // $0.01 a call
      // Worst case of a call: its prompt plus 1,000 output tokens ($0.008).
      await tenant.admin.client.put('/v1/admin/budgets', {
        budgets: [{ scope: 'user', scopeId: member.id, period: 'day', limitUsd: '0.025' }],
      });
      const id = await converse(member.client);
      const send = () =>
        member.client.post(`/v1/conversations/${id}/messages`, { content: 'Hi', maxTokens: 1000 });
      expect((await send()).status).toBe(201);
      expect((await send()).status).toBe(201); // $0.02 spent: past 80 %
      const refused = await send();
      expect(refused.status).toBe(402);
      expect(refused.body.code).toBe('BUDGET_EXCEEDED');
      expect(refused.body.budget).toMatchObject({
        scope: 'user',
        scopeId: member.id,
        period: 'day',
        limitUsd: '0.025000000',
        spentUsd: '0.020000000',
        reservedUsd: '0.000000000',
      });
      expect(Date.parse(refused.body.budget.resetsAt)).toBeGreaterThan(Date.now());
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(chatCalls()).toHaveLength(2);
      expect((await send()).status).toBe(402);
      const audit = await tenant.admin.client.get('/v1/admin/audit-logs?limit=100');
      const actions = audit.body.items.map((e: { action: string }) => e.action);
      expect(actions.filter((a: string) => a === 'budget.threshold_crossed')).toHaveLength(1);
      expect(actions.filter((a: string) => a === 'budget.exhausted')).toHaveLength(1);
    });

    it('starts a new day with a fresh daily budget (windows are named, never reset)', async () => {
      const tenant = await createTenant(t.app);
      const member = await createUser(tenant);
      fake.configure({ usage: { prompt: 1000, completion: 1000 } });
      await tenant.admin.client.put('/v1/admin/budgets', {
        budgets: [{ scope: 'user', scopeId: member.id, period: 'day', limitUsd: '0.015' }],
      });
      const clock = t.app.get(Clock);
      const lateEvening = new Date('2031-05-20T23:59:58Z');
      jest.spyOn(clock, 'now').mockReturnValue(lateEvening);
      const id = await converse(member.client);
      const send = () =>
        member.client.post(`/v1/conversations/${id}/messages`, { content: 'Hi', maxTokens: 1000 });
      expect((await send()).status).toBe(201);
      const refused = await send();
      expect(refused.status).toBe(402);
      expect(refused.body.budget).toMatchObject({
        window: 'day:2031-05-20',
        resetsAt: '2031-05-21T00:00:00.000Z',
      });
      jest.spyOn(clock, 'now').mockReturnValue(new Date('2031-05-21T00:00:01Z'));
      expect((await send()).status).toBe(201);
      const user = (await myBudgets(member.client)).find((b) => b.scope === 'user')!;
      expect(user).toMatchObject({ spentUsd: '0.010000000', resetsAt: '2031-05-22T00:00:00.000Z' });
      // In the tenant's own time zone the day starts at its midnight.
      const zone = await root.request('PUT', '/v1/admin/cost-settings', {});
      expect(zone.status).toBe(200);
      const berlin = await tenant.admin.client.put('/v1/admin/cost-settings', {
        timeZone: 'Europe/Berlin',
      });
      expect(berlin.body).toMatchObject({ timeZone: 'Europe/Berlin' });
      // The day open when the zone changed runs to its end; from then on, Berlin days.
      const tz = (await myBudgets(member.client)).find((b) => b.scope === 'user')!;
      expect(tz).toMatchObject({ window: 'day:2031-05-21', resetsAt: '2031-05-22T00:00:00.000Z' });
      jest.spyOn(clock, 'now').mockReturnValue(new Date('2031-05-22T12:00:00Z'));
      const next = (await myBudgets(member.client)).find((b) => b.scope === 'user')!;
      expect(next).toMatchObject({
        window: 'day:2031-05-22',
        resetsAt: '2031-05-22T22:00:00.000Z',
      });
      expect(
        (await tenant.admin.client.put('/v1/admin/cost-settings', { timeZone: 'Mars/Base' }))
          .status,
      ).toBe(400);
      expect(
        (await tenant.admin.client.put('/v1/admin/cost-settings', { failOpen: true })).status,
      ).toBe(403);
    });

    it('does not reopen a spent day when the tenant moves to a zone where a new day has begun', async () => {
      const tenant = await createTenant(t.app);
      const member = await createUser(tenant);
      fake.configure({ usage: { prompt: 1000, completion: 1000 } }); // $0.01 a call
      await tenant.admin.client.put('/v1/admin/budgets', {
        budgets: [{ scope: 'user', scopeId: member.id, period: 'day', limitUsd: '0.015' }],
      });
      const clock = t.app.get(Clock);
      jest.spyOn(clock, 'now').mockReturnValue(new Date('2031-06-10T12:00:00Z'));
      const id = await converse(member.client);
      const send = () =>
        member.client.post(`/v1/conversations/${id}/messages`, { content: 'Hi', maxTokens: 1000 });
      expect((await send()).status).toBe(201);
      expect((await send()).status).toBe(402);
      // Noon UTC is already 02:00 on 11 June in Kiritimati (UTC+14): there, a new day has begun.
      const moved = await tenant.admin.client.put('/v1/admin/cost-settings', {
        timeZone: 'Pacific/Kiritimati',
      });
      expect(moved.status).toBe(200);
      const refused = await send();
      expect(refused.status).toBe(402);
      // The spent UTC day stays in force to its end, and on to the end of the Kiritimati day
      // then in progress (only 10 hours of it would be left).
      expect(refused.body.budget).toMatchObject({
        window: 'day:2031-06-10',
        spentUsd: '0.010000000',
        resetsAt: '2031-06-11T10:00:00.000Z',
      });
      const user = (await myBudgets(member.client)).find((b) => b.scope === 'user')!;
      expect(user).toMatchObject({ window: 'day:2031-06-10', remainingUsd: '0.005000000' });
      jest.spyOn(clock, 'now').mockReturnValue(new Date('2031-06-11T09:59:59Z'));
      expect((await send()).status).toBe(402);
      expect(chatCalls()).toHaveLength(1);
      // Then the Kiritimati days.
      jest.spyOn(clock, 'now').mockReturnValue(new Date('2031-06-11T10:00:01Z'));
      expect((await send()).status).toBe(201);
      const after = (await myBudgets(member.client)).find((b) => b.scope === 'user')!;
      expect(after).toMatchObject({ window: 'day:2031-06-12', spentUsd: '0.010000000' });
    });
  });

  describe('other kinds of paid call', () => {
    it('admits and settles embeddings through the same budgets and ledger', async () => {
      const tenant = await createTenant(t.app);
      const member = await createUser(tenant);
      const cost = t.app.get(CostService);
      const subject = { tenantId: tenant.id, userId: member.id };
      // config/pricing.test.yaml: fake-embedding costs $0.02 per million tokens.
      const admission = await cost.admitUnits({
        subject,
        kind: 'embedding',
        model: 'fake-embedding',
        quantity: 2_000_000,
      });
      expect(formatUsd(admission.estimate)).toBe('0.040000000');
      const daily = async () => (await myBudgets(member.client)).find((b) => b.scope === 'tenant')!;
      expect((await daily()).reservedUsd).toBe('0.040000000');
      const { cost: settled } = await cost.settle(admission, {
        provider: 'env',
        model: 'fake-embedding',
        promptTokens: 1_500_000,
        status: 'complete',
      });
      expect(formatUsd(settled)).toBe('0.030000000');
      expect(await daily()).toMatchObject({ spentUsd: '0.030000000', reservedUsd: '0.000000000' });
      const [row] = await ledger(tenant.id);
      expect(row).toMatchObject({
        kind: 'embedding',
        cost_usd: '0.030000000',
        prompt_tokens: 1_500_000,
      });
      await expect(
        cost.admitUnits({ subject, kind: 'speech_to_text', model: 'no-such-stt', quantity: 60 }),
      ).rejects.toMatchObject({ code: 'MODEL_NOT_PRICED' });
    });
  });

  describe('reports', () => {
    it('add up to the ledger; members see only their own; other tenants see nothing', async () => {
      const tenant = await createTenant(t.app);
      const alice = await createUser(tenant);
      const bob = await createUser(tenant);
      fake.configure({ usage: { prompt: 100, completion: 50 } });
      for (const [who, n] of [
        [alice, 2],
        [bob, 1],
      ] as const) {
        const id = await converse(who.client);
        for (let i = 0; i < n; i++)
          expect(
            (await who.client.post(`/v1/conversations/${id}/messages`, { content: `q${i}` }))
              .status,
          ).toBe(201);
      }
      const rows = await ledger(tenant.id);
      const total = formatUsd(rows.reduce((a, r) => a + parseUsd(r.cost_usd), 0n));
      // Members need the usage:read scope, which user tokens carry for their own usage.
      const mine = await alice.client.get('/v1/usage?groupBy=model');
      expect(mine.status).toBe(200);
      expect(mine.body.items).toEqual([
        expect.objectContaining({ key: 'fake-model', requests: 2, promptTokens: 200 }),
      ]);
      expect(mine.body.totals.costUsd).toBe(formatUsd((parseUsd(total) * 2n) / 3n));
      const byUser = await tenant.admin.client.get('/v1/admin/usage?groupBy=user');
      expect(byUser.body.totals).toMatchObject({ requests: 3, costUsd: total });
      expect(byUser.body.items.map((i: { key: string }) => i.key).sort()).toEqual(
        [alice.id, bob.id].sort(),
      );
      const byDay = await tenant.admin.client.get('/v1/admin/usage');
      expect(byDay.body.groupBy).toBe('day');
      expect(byDay.body.totals.costUsd).toBe(total);
      const csv = await tenant.admin.client.get('/v1/admin/usage?groupBy=model', {
        accept: 'text/csv',
      });
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csv.raw.trim().split('\r\n');
      expect(lines[0]).toBe(
        'model,requests,promptTokens,completionTokens,cachedTokens,audioSeconds,characters,costUsd',
      );
      expect(lines.at(-1)).toBe(`total,3,300,150,0,0.000,0,${total}`);
      // Members cannot read the tenant report; another tenant's admin sees none of it.
      expect((await alice.client.get('/v1/admin/usage')).status).toBe(403);
      const other = await createTenant(t.app);
      const theirs = await other.admin.client.get('/v1/admin/usage?groupBy=user');
      expect(theirs.body.items).toEqual([]);
      expect(theirs.body.totals.costUsd).toBe('0.000000000');
      const range = await alice.client.get('/v1/usage?from=2026-02-01&to=2026-01-01');
      expect(range.status).toBe(400);
      expect(range.body.errors[0].field).toBe('from');
    });
  });
});

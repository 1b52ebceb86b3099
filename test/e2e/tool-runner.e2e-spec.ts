import { ToolRunner } from '@parley/tools';
import { randomBytes } from 'node:crypto';
import { createTenant, type TestTenant } from '../support/identity';
import { createKnowledgeBase, waitForDocument } from '../support/knowledge-bases';
import { TenantApi } from '../support/tenant-api';
import { createTestApp, type TestApp } from '../support/test-app';

describe('running tool calls (ToolRunner, through the real app)', () => {
  let api: TenantApi;
  let t: TestApp;
  let tenant: TestTenant;
  let runner: ToolRunner;
  const call = (name: string, args: unknown) => ({
    id: `call_${Math.random()}`,
    name,
    arguments: typeof args === 'string' ? args : JSON.stringify(args),
  });
  const context = (enabled: string[], knowledgeBaseIds: string[] = []) => ({
    subject: { tenantId: tenant.id },
    enabled,
    knowledgeBaseIds,
  });
  const defineTool = async (body: Record<string, unknown>) => {
    const res = await tenant.admin.client.post('/v1/admin/tools', {
      description: 'A test tool.',
      parameters: {
        type: 'object',
        properties: { claimId: { type: 'string', pattern: '^C-[0-9]+$' } },
        required: ['claimId'],
      },
      http: { method: 'GET', url: `http://127.0.0.1:${api.port}/claims/{claimId}` },
      ...body,
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    api = await TenantApi.start();
    // The tenant's API is on loopback here, so this operator allows private networks.
    t = await createTestApp({
      env: {
        WORKERS_IN_PROCESS: 'true',
        TOOLS_ALLOW_PRIVATE_NETWORKS: 'true',
        MESSAGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      },
    });
    runner = t.app.get(ToolRunner);
    tenant = await createTenant(t.app);
    await tenant.admin.client.put('/v1/admin/tool-settings', {
      allowedHosts: ['127.0.0.1', '169.254.169.254'],
    });
  });
  afterAll(async () => {
    await t?.close();
    await api?.close();
  });
  beforeEach(() => {
    api.received.length = 0;
    api.answer = () => ({ status: 200, body: '{}' });
  });

  it('calls an HTTP tool with the arguments in its URL and its secret headers', async () => {
    await defineTool({
      name: 'claim_status',
      secretHeaders: { authorization: 'Bearer sk-tenant' },
      http: {
        method: 'GET',
        url: `http://127.0.0.1:${api.port}/claims/{claimId}?fields=status`,
        headers: { 'x-client': 'parley' },
      },
    });
    api.answer = () => ({ status: 200, body: '{"status":"approved"}' });
    const outcome = await runner.run(
      context(['claim_status']),
      call('claim_status', { claimId: 'C-42' }),
    );
    expect(outcome).toMatchObject({ status: 'ok', output: '{"status":"approved"}', attempts: 1 });
    expect(api.received).toHaveLength(1);
    expect(api.received[0]).toMatchObject({ method: 'GET', url: '/claims/C-42?fields=status' });
    expect(api.received[0]!.headers).toMatchObject({
      authorization: 'Bearer sk-tenant',
      'x-client': 'parley',
    });
  });

  it('sends the other arguments as a JSON body on POST', async () => {
    await defineTool({
      name: 'book_room',
      parameters: {
        type: 'object',
        properties: { hotel: { type: 'string' }, nights: { type: 'integer' } },
        required: ['hotel', 'nights'],
      },
      http: { method: 'POST', url: `http://127.0.0.1:${api.port}/hotels/{hotel}/bookings` },
      // A write is high risk unless an admin says otherwise (tools-admin.e2e-spec).
      risk: 'low',
    });
    api.answer = () => ({ status: 201, body: '{"booking":"B-1"}' });
    const outcome = await runner.run(
      context(['book_room']),
      call('book_room', { hotel: 'Alpen Hof', nights: 2 }),
    );
    expect(outcome.status).toBe('ok');
    expect(api.received[0]).toMatchObject({
      method: 'POST',
      url: '/hotels/Alpen%20Hof/bookings',
      body: '{"nights":2}',
    });
  });

  it('refuses an argument that would move the call to another path, sending nothing', async () => {
    await defineTool({
      name: 'public_doc',
      parameters: { type: 'object', properties: { docId: { type: 'string' } } },
      http: { method: 'GET', url: `http://127.0.0.1:${api.port}/public/{docId}` },
    });
    for (const docId of ['..', '.', '%2e%2E', '../admin', 'a/b', '..\\admin']) {
      const outcome = await runner.run(context(['public_doc']), call('public_doc', { docId }));
      expect({ docId, ...outcome }).toMatchObject({
        docId,
        status: 'error',
        code: 'TOOL_PATH_ARGUMENT_REFUSED',
        attempts: 0,
      });
      expect(outcome.output).toMatch(/The argument "docId" would change the path/);
    }
    expect(api.received).toHaveLength(0);
    const fine = await runner.run(context(['public_doc']), call('public_doc', { docId: 'v1.2' }));
    expect(fine.status).toBe('ok');
    expect(api.received.map((r) => r.url)).toEqual(['/public/v1.2']);
  });

  it('reports invalid arguments back to the model without calling the tool', async () => {
    await defineTool({ name: 'claim_strict' });
    const bad = await runner.run(
      context(['claim_strict']),
      call('claim_strict', { claimId: 'nope' }),
    );
    expect(bad).toMatchObject({ status: 'error', code: 'TOOL_INVALID_ARGUMENTS', attempts: 0 });
    expect(bad.output).toMatch(/\/claimId must match pattern/);
    const notJson = await runner.run(
      context(['claim_strict']),
      call('claim_strict', '{"claimId": '),
    );
    expect(notJson.output).toMatch(/not valid JSON/);
    expect(api.received).toHaveLength(0);
  });

  it('refuses a tool the conversation did not enable, whatever the model asks', async () => {
    await defineTool({ name: 'secret_admin_tool' });
    const outcome = await runner.run(
      context(['claim_status']),
      call('secret_admin_tool', { claimId: 'C-1' }),
    );
    expect(outcome).toMatchObject({ status: 'error', code: 'TOOL_NOT_ENABLED' });
    expect(api.received).toHaveLength(0);
    await expect(runner.definitions(tenant.id, ['no_such_tool'])).rejects.toMatchObject({
      code: 'TOOL_NOT_FOUND',
      status: 400,
    });
    const defs = await runner.definitions(tenant.id, ['claim_status', 'current_time']);
    expect(defs.map((d) => d.name)).toEqual(['claim_status', 'current_time']);
  });

  it('retries only idempotent tools, and opens a tool’s breaker after repeated failures', async () => {
    await defineTool({ name: 'flaky_read', idempotent: true });
    await defineTool({ name: 'flaky_write', idempotent: false });
    api.answer = () => ({ status: 503, body: '{}' });
    const read = await runner.run(context(['flaky_read']), call('flaky_read', { claimId: 'C-1' }));
    expect(read).toMatchObject({ status: 'error', attempts: 3 });
    expect(read.output).toContain('HTTP 503');
    expect(api.received).toHaveLength(3);
    api.received.length = 0;
    const write = await runner.run(
      context(['flaky_write']),
      call('flaky_write', { claimId: 'C-1' }),
    );
    expect(write).toMatchObject({ status: 'error', attempts: 1 });
    expect(api.received).toHaveLength(1);
    // flaky_read has failed 3 times in a row; 2 more and its breaker opens.
    await runner.run(context(['flaky_read']), call('flaky_read', { claimId: 'C-1' }));
    api.received.length = 0;
    const paused = await runner.run(
      context(['flaky_read']),
      call('flaky_read', { claimId: 'C-1' }),
    );
    expect(paused).toMatchObject({ status: 'error', code: 'TOOL_CIRCUIT_OPEN' });
    expect(api.received).toHaveLength(0);
    // A client error is the caller's fault: reported with the service's words, not retried.
    api.answer = () => ({ status: 404, body: '{"error":"no such claim"}' });
    const missing = await runner.run(
      context(['flaky_write']),
      call('flaky_write', { claimId: 'C-9' }),
    );
    expect(missing.output).toContain('no such claim');
  });

  it('never reaches the cloud metadata endpoint, even with private networks allowed', async () => {
    await defineTool({
      name: 'metadata',
      http: { method: 'GET', url: 'http://169.254.169.254/latest/{claimId}' },
    });
    const outcome = await runner.run(context(['metadata']), call('metadata', { claimId: 'C-1' }));
    expect(outcome).toMatchObject({ status: 'error', code: 'TOOL_ADDRESS_REFUSED' });
  });

  it('answers the built-ins: current_time and knowledge_base_search', async () => {
    const time = await runner.run(
      context(['current_time']),
      call('current_time', { timeZone: 'Europe/Berlin' }),
    );
    expect(time.status).toBe('ok');
    const parsed = JSON.parse(time.output);
    expect(Date.parse(parsed.utc)).toBeGreaterThan(Date.now() - 60_000);
    expect(parsed.local).toMatch(/\+0[12]:00$/);
    expect(
      (
        await runner.run(
          context(['current_time']),
          call('current_time', { timeZone: 'Mars/Olympus' }),
        )
      ).status,
    ).toBe('error');

    const kb = await createKnowledgeBase(tenant.admin.client);
    const doc = await tenant.admin.client.post(`/v1/knowledge-bases/${kb.id}/documents`, {
      title: 'Claims',
      text: 'Claims are settled within ten working days of the assessment.',
    });
    await waitForDocument(tenant.admin.client, kb.id, doc.body.id);
    const found = await runner.run(
      context(['knowledge_base_search'], [kb.id]),
      call('knowledge_base_search', { query: 'when are claims settled' }),
    );
    expect(found.status).toBe('ok');
    expect(JSON.parse(found.output).passages[0]).toMatchObject({
      n: 1,
      title: 'Claims',
      documentId: doc.body.id,
    });
    const none = await runner.run(
      context(['knowledge_base_search']),
      call('knowledge_base_search', { query: 'x' }),
    );
    expect(none.output).toMatch(/no knowledge bases/);
  });
});

describe('tool calls under the default address policy', () => {
  it('refuses an HTTP tool whose host is a loopback address, sending nothing', async () => {
    const api = await TenantApi.start();
    const t = await createTestApp();
    try {
      const tenant = await createTenant(t.app);
      await tenant.admin.client.put('/v1/admin/tool-settings', { allowedHosts: ['127.0.0.1'] });
      await tenant.admin.client.post('/v1/admin/tools', {
        name: 'internal',
        description: 'Points at an internal address.',
        parameters: { type: 'object', properties: {} },
        http: { method: 'GET', url: `http://127.0.0.1:${api.port}/admin` },
      });
      const outcome = await t.app
        .get(ToolRunner)
        .run(
          { subject: { tenantId: tenant.id }, enabled: ['internal'], knowledgeBaseIds: [] },
          { id: 'c1', name: 'internal', arguments: '{}' },
        );
      expect(outcome).toMatchObject({ status: 'error', code: 'TOOL_ADDRESS_REFUSED' });
      expect(outcome.output).toMatch(/TOOLS_ALLOW_PRIVATE_NETWORKS|private/i);
      expect(api.received).toHaveLength(0);
    } finally {
      await t.close();
      await api.close();
    }
  });
});

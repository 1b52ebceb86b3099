import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { readSse } from '../support/sse-client';
import { TenantApi } from '../support/tenant-api';
import { createTestApp, type TestApp } from '../support/test-app';

describe('approvals of high-risk tool calls', () => {
  let fake: FakeLlm;
  let api: TenantApi;
  let t: TestApp;
  let db: DataSource;
  let tenant: TestTenant;
  let member: TestUser;

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: 'Done.' });
    api = await TenantApi.start();
    t = await createTestApp({
      env: { TOOLS_ALLOW_PRIVATE_NETWORKS: 'true', ...fakeLlmEnv(fake.url) },
    });
    db = t.app.get(DataSource);
    tenant = await createTenant(t.app);
    member = await createUser(tenant);
    await tenant.admin.client.put('/v1/admin/tool-settings', { allowedHosts: ['127.0.0.1'] });
    // Members may enable these tools (tool-enabling rules: agent-loop.e2e-spec).
    const define = async (body: Record<string, unknown>) =>
      expect(
        (await tenant.admin.client.post('/v1/admin/tools', { enableRoles: ['member'], ...body }))
          .status,
      ).toBe(201);
    await define({
      name: 'get_claim_status',
      description: 'The status of an insurance claim.',
      parameters: { type: 'object', properties: { claimId: { type: 'string' } } },
      http: { method: 'GET', url: `http://127.0.0.1:${api.port}/claims/{claimId}` },
    });
    await define({
      name: 'refund_payment',
      description: 'Pays a refund.',
      parameters: {
        type: 'object',
        properties: { amount: { type: 'number', maximum: 1000 } },
        required: ['amount'],
      },
      http: { method: 'POST', url: `http://127.0.0.1:${api.port}/refunds` },
      risk: 'high',
    });
    await define({
      name: 'close_account',
      description: 'Closes the customer account.',
      parameters: { type: 'object', properties: {} },
      http: { method: 'POST', url: `http://127.0.0.1:${api.port}/close` },
      risk: 'high',
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await api?.close();
  });
  beforeEach(() => {
    fake.reset();
    api.received.length = 0;
    api.answer = (url) => ({ status: 200, body: JSON.stringify({ ok: true, url }) });
  });

  const chatCalls = () => fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
  const converse = async (tools: string[], user: { client: Client } = member) => {
    const res = await user.client.post('/v1/conversations', { tools });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const ask = (id: string, content: string, user: { client: Client } = member) =>
    user.client.post(`/v1/conversations/${id}/messages`, { content });
  // Another person than the member who asks approves: a tenant admin (the member may not).
  const decide = (
    id: string,
    callId: string,
    body: Record<string, unknown>,
    user: { client: Client } = tenant.admin,
  ) => user.client.post(`/v1/conversations/${id}/tool-approvals/${callId}`, body);
  const steps = async (id: string, messageId: string) =>
    (await member.client.get(`/v1/conversations/${id}/messages/${messageId}/steps`)).body.items;

  it('pauses the answer for a high-risk call, runs it once approved, and finishes the same message', async () => {
    const id = await converse(['refund_payment']);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 100 } }]);
    fake.replyNext('Your refund of 100 is on its way.');
    const paused = await ask(id, 'Refund my 100, please.');
    expect(paused.status).toBe(201);
    const waiting = paused.body.assistantMessage;
    expect(waiting).toMatchObject({ status: 'awaiting_approval', finishReason: 'tool_approval' });
    // Nothing ran: the call waits for a person.
    expect(api.received).toHaveLength(0);
    expect(chatCalls()).toHaveLength(1);
    const listed = await member.client.get(`/v1/conversations/${id}/tool-approvals`);
    expect(listed.body.items).toHaveLength(1);
    const [call] = listed.body.items;
    expect(call).toMatchObject({
      messageId: waiting.id,
      name: 'refund_payment',
      arguments: '{"amount":100}',
      status: 'pending',
    });
    expect(Date.parse(call.expiresAt)).toBeGreaterThan(Date.now());

    // One answer at a time: a new message waits until the paused one is decided.
    const blocked = await ask(id, 'Hello?');
    expect(blocked.status).toBe(409);
    expect(blocked.body.code).toBe('TOOL_APPROVAL_PENDING');
    expect(blocked.body.detail).toContain(`/v1/conversations/${id}/tool-approvals/`);

    const approved = await decide(id, call.callId, { decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.body.assistantMessage).toMatchObject({
      id: waiting.id,
      status: 'complete',
      content: 'Your refund of 100 is on its way.',
    });
    expect(approved.body.userMessage.id).toBe(paused.body.userMessage.id);
    expect(api.received.map((r) => [r.method, r.url, r.body])).toEqual([
      ['POST', '/refunds', '{"amount":100}'],
    ]);
    // The model saw the result of the approved call.
    const toolMessage = chatCalls()[1]!.body.messages.find(
      (m: { role: string }) => m.role === 'tool',
    );
    expect(toolMessage.content).toContain('"url":"/refunds"');

    const history = await steps(id, waiting.id);
    expect(history.map((s: { kind: string }) => s.kind)).toEqual(['model', 'tool']);
    expect(history[1]).toMatchObject({
      name: 'refund_payment',
      status: 'ok',
      approval: { decision: 'approved' },
    });
    const messages = (await member.client.get(`/v1/conversations/${id}/messages`)).body.items;
    expect(messages.map((m: { status: string }) => m.status)).toEqual(['complete', 'complete']);
    // Both model turns are costed to the member, in the ledger.
    const ledger: { user_id: string; status: string }[] = await db.query(
      `SELECT user_id, status FROM usage_ledger WHERE conversation_id = $1 ORDER BY created_at`,
      [id],
    );
    expect(ledger).toEqual([
      { user_id: member.id, status: 'complete' },
      { user_id: member.id, status: 'complete' },
    ]);
    const audit = await tenant.admin.client.get('/v1/admin/audit-logs?action=tool.call_approved');
    expect(audit.body.items[0]).toMatchObject({
      targetId: call.callId,
      actorUserId: tenant.admin.id,
      metadata: { tool: 'refund_payment', conversationId: id, messageId: waiting.id },
    });

    // A repeat of the same decision is harmless; changing it is refused.
    const again = await decide(id, call.callId, { decision: 'approve' });
    expect(again.status).toBe(202);
    expect(api.received).toHaveLength(1);
    const changed = await decide(id, call.callId, { decision: 'reject' });
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe('TOOL_APPROVAL_DECIDED');
    // The conversation goes on.
    expect((await ask(id, 'Thanks!')).status).toBe(201);
  });

  it('takes another person to approve a call: not the one who asked, nor an API key, nor its creator', async () => {
    const id = await converse(['refund_payment']);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 7 } }]);
    await ask(id, 'Refund 7.');
    const [call] = (await member.client.get(`/v1/conversations/${id}/tool-approvals`)).body.items;
    const self = await decide(id, call.callId, { decision: 'approve' }, member);
    expect(self.status).toBe(403);
    expect(self.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(self.body.code).toBe('TOOL_SELF_APPROVAL');
    expect(self.body.detail).toMatch(/You asked for this call, so another person must approve it/);
    expect(api.received).toHaveLength(0);
    const pending = (await member.client.get(`/v1/conversations/${id}/tool-approvals`)).body;
    expect(pending.items[0].status).toBe('pending');
    expect((await decide(id, call.callId, { decision: 'approve' })).status).toBe(200);
    expect(api.received).toHaveLength(1);

    // A turn sent with an admin's API key: the key may not approve, nor may the admin behind it.
    const { key } = await createApiKey(tenant.admin.client, ['chat']);
    const bot = { client: new Client(t.app, key) };
    const viaKey = await converse(['refund_payment'], bot);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 8 } }]);
    await ask(viaKey, 'Refund 8.', bot);
    const [keyCall] = (await bot.client.get(`/v1/conversations/${viaKey}/tool-approvals`)).body
      .items;
    const byKey = await decide(viaKey, keyCall.callId, { decision: 'approve' }, bot);
    expect(byKey.status).toBe(403);
    expect(byKey.body.code).toBe('TOOL_APPROVAL_BY_API_KEY');
    expect(byKey.body.detail).toMatch(/API keys cannot approve tool calls: a person must/);
    const byCreator = await decide(viaKey, keyCall.callId, { decision: 'approve' });
    expect(byCreator.status).toBe(403);
    expect(byCreator.body.code).toBe('TOOL_SELF_APPROVAL');
    expect(byCreator.body.detail).toMatch(/an API key you created, so another person must/);
    expect(api.received).toHaveLength(1);
    const colleague = await createUser(tenant, 'admin');
    expect((await decide(viaKey, keyCall.callId, { decision: 'approve' }, colleague)).status).toBe(
      200,
    );
    expect(api.received).toHaveLength(2);
    // Rejecting stays open to whoever may use the conversation, the key that asked included.
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 8 } }]);
    await ask(viaKey, 'Refund 8 again.', bot);
    const [again] = (await bot.client.get(`/v1/conversations/${viaKey}/tool-approvals`)).body.items;
    expect((await decide(viaKey, again.callId, { decision: 'reject' }, bot)).status).toBe(200);
    expect(api.received).toHaveLength(2);
  });

  it('tells the model about a rejection, with the reason, and never calls the tool', async () => {
    const id = await converse(['refund_payment']);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 900 } }]);
    fake.replyNext('I cannot refund that without approval.');
    const paused = await ask(id, 'Refund 900.');
    const [call] = (await member.client.get(`/v1/conversations/${id}/tool-approvals`)).body.items;
    const rejected = await decide(
      id,
      call.callId,
      { decision: 'reject', reason: 'over the limit' },
      tenant.admin,
    );
    expect(rejected.status).toBe(200);
    expect(rejected.body.assistantMessage.content).toBe('I cannot refund that without approval.');
    expect(api.received).toHaveLength(0);
    const toolMessage = chatCalls()[1]!.body.messages.find(
      (m: { role: string }) => m.role === 'tool',
    );
    expect(toolMessage.content).toMatch(/A person declined this call \(over the limit\)/);
    const history = await steps(id, paused.body.assistantMessage.id);
    expect(history[1]).toMatchObject({
      code: 'TOOL_CALL_REJECTED',
      approval: { decision: 'rejected', reason: 'over the limit' },
    });
    const audit = await tenant.admin.client.get('/v1/admin/audit-logs?action=tool.call_rejected');
    expect(audit.body.items[0]).toMatchObject({
      targetId: call.callId,
      actorUserId: tenant.admin.id,
      metadata: { reason: 'over the limit' },
    });
  });

  it('waits for every high-risk call of a round; the other calls run with them', async () => {
    const id = await converse(['get_claim_status', 'refund_payment', 'close_account']);
    fake.toolCallsNext([
      { name: 'get_claim_status', arguments: { claimId: 'C-1' } },
      { name: 'refund_payment', arguments: { amount: 10 } },
      { name: 'close_account', arguments: {} },
    ]);
    fake.replyNext('Refunded; the account stays open.');
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/conversations/${id}/messages`,
      payload: { content: 'Check C-1, refund 10 and close my account.' },
      headers: { authorization: `Bearer ${member.client.credential}`, accept: 'text/event-stream' },
    });
    const events = readSse(res.body);
    expect(events.map((e) => e.event)).toEqual([
      'tool.call',
      'tool.call',
      'tool.call',
      'tool.approval_required',
      'tool.approval_required',
      'usage',
      'done',
    ]);
    const asked = events.filter((e) => e.event === 'tool.approval_required').map((e) => e.data);
    expect(asked.map((a) => a.name)).toEqual(['refund_payment', 'close_account']);
    expect(asked[0].messageId).toBe(events.at(-1)!.data.assistantMessage.id);
    expect(api.received).toHaveLength(0);

    const first = await decide(id, asked[0].callId, { decision: 'approve' });
    expect(first.status).toBe(202);
    expect(first.body.pending).toEqual([asked[1].callId]);
    expect(api.received).toHaveLength(0);

    const last = await t.app.inject({
      method: 'POST',
      url: `/v1/conversations/${id}/tool-approvals/${asked[1].callId}`,
      payload: { decision: 'reject' },
      headers: { authorization: `Bearer ${member.client.credential}`, accept: 'text/event-stream' },
    });
    const resumed = readSse(last.body).map((e) => e.event);
    expect(resumed.filter((e) => e === 'tool.result')).toHaveLength(3);
    expect(resumed.slice(-2)).toEqual(['usage', 'done']);
    expect(resumed).toContain('delta');
    expect(api.received.map((r) => r.url).sort()).toEqual(['/claims/C-1', '/refunds']);
  });

  it('carries the answer on exactly once when the last two decisions arrive together', async () => {
    const id = await converse(['refund_payment', 'close_account']);
    fake.toolCallsNext([
      { name: 'refund_payment', arguments: { amount: 20 } },
      { name: 'close_account', arguments: {} },
    ]);
    fake.replyNext('Both done.');
    await ask(id, 'Refund 20 and close my account.');
    const calls = (await member.client.get(`/v1/conversations/${id}/tool-approvals`)).body.items;
    const results = await Promise.all(
      calls.map((c: { callId: string }) => decide(id, c.callId, { decision: 'approve' })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 202]);
    expect(api.received.map((r) => r.url).sort()).toEqual(['/close', '/refunds']);
    expect(chatCalls()).toHaveLength(2);
  });

  it('does not ask for approval of a call whose arguments are invalid', async () => {
    const id = await converse(['refund_payment']);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 5000 } }]);
    fake.replyNext('That amount is too high.');
    const res = await ask(id, 'Refund 5000.');
    expect(res.body.assistantMessage.status).toBe('complete');
    const toolMessage = chatCalls()[1]!.body.messages.find(
      (m: { role: string }) => m.role === 'tool',
    );
    expect(toolMessage.content).toMatch(/do not match the tool's schema/);
  });

  it('lets only those who may use the conversation decide, and says what is wrong', async () => {
    const id = await converse(['refund_payment']);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 1 } }]);
    await ask(id, 'Refund 1.');
    const [call] = (await member.client.get(`/v1/conversations/${id}/tool-approvals`)).body.items;
    const colleague = await createUser(tenant);
    expect((await decide(id, call.callId, { decision: 'approve' }, colleague)).status).toBe(404);
    const outsider = await createUser(await createTenant(t.app));
    expect((await decide(id, call.callId, { decision: 'approve' }, outsider)).status).toBe(404);
    expect((await decide(id, 'call_nope', { decision: 'approve' })).status).toBe(404);
    const bad = await decide(id, call.callId, { decision: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { field: 'decision', messages: ['decision must be "approve" or "reject"'] },
    ]);
    expect(api.received).toHaveLength(0);
  });

  it('ends an answer whose calls waited too long; the conversation goes on', async () => {
    const id = await converse(['refund_payment']);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 2 } }]);
    const paused = await ask(id, 'Refund 2.');
    const [call] = (await member.client.get(`/v1/conversations/${id}/tool-approvals`)).body.items;
    await db.query(
      `UPDATE agent_pauses SET expires_at = now() - interval '1 second' WHERE conversation_id = $1`,
      [id],
    );
    const late = await decide(id, call.callId, { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('TOOL_APPROVAL_EXPIRED');
    expect(api.received).toHaveLength(0);
    const messages = (await member.client.get(`/v1/conversations/${id}/messages`)).body.items;
    expect(
      messages.find((m: { id: string }) => m.id === paused.body.assistantMessage.id),
    ).toMatchObject({
      status: 'failed',
      finishReason: 'tool_approval_expired',
    });
    expect((await ask(id, 'Never mind.')).status).toBe(201);
  });

  it('stores a resumed answer whose next model turn fails as failed, and frees the conversation', async () => {
    const id = await converse(['refund_payment']);
    fake.toolCallsNext([{ name: 'refund_payment', arguments: { amount: 3 } }]);
    const paused = await ask(id, 'Refund 3.');
    const [call] = (await member.client.get(`/v1/conversations/${id}/tool-approvals`)).body.items;
    fake.failNext({ kind: 'status', status: 400 });
    const res = await decide(id, call.callId, { decision: 'approve' });
    expect(res.status).toBe(502);
    // The approved call ran once; the answer could not be finished.
    expect(api.received).toHaveLength(1);
    const messages = (await member.client.get(`/v1/conversations/${id}/messages`)).body.items;
    expect(
      messages.find((m: { id: string }) => m.id === paused.body.assistantMessage.id),
    ).toMatchObject({
      status: 'failed',
    });
    const open: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM cost_reservations WHERE tenant_id = $1 AND status = 'held'`,
      [tenant.id],
    );
    expect(open[0]!.n).toBe(0);
    fake.reset();
    expect((await ask(id, 'Try again later then.')).status).toBe(201);
  });
});

import { ToolRunner } from '@parley/tools';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { createKnowledgeBase as create, waitForDocument } from '../support/knowledge-bases';
import { createTestApp, type TestApp } from '../support/test-app';

const HANDBOOK = `# Refunds
Refunds are paid within five working days after the returned parcel arrives at our warehouse.

# Shipping
We ship every weekday. Parcels to Norway and Switzerland need a customs declaration.`;

interface KnowledgeBase {
  id: string;
  name: string;
  version: number;
  access: string;
  ownerUserId: string | null;
  permission: string;
}

/** A knowledge base with a fresh name, as the API returned it. */
const createKnowledgeBase = async (client: Client, body: Record<string, unknown> = {}) =>
  (await create(client, body)) as KnowledgeBase;

/**
 * Issue #24, item 5: knowledge bases have an owner, a tenant-wide `access` and per-user grants.
 * What a caller may not read is 404 (as another tenant's is); what they may read but not change
 * is 403 KNOWLEDGE_BASE_FORBIDDEN saying what access is needed.
 */
describe('knowledge base access', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_IN_PROCESS: 'true' } });
    tenant = await createTenant(t.app);
    alice = await createUser(tenant);
    bob = await createUser(tenant);
  });
  afterAll(() => t?.close());

  const kbUrl = (kb: string, rest = '') => `/v1/knowledge-bases/${kb}${rest}`;
  async function addDocument(client: Client, kb: string, text = HANDBOOK): Promise<string> {
    const res = await client.post(kbUrl(kb, '/documents'), { title: 'Handbook', text });
    expect(res.status).toBe(202);
    expect((await waitForDocument(client, kb, res.body.id)).status).toBe('ready');
    return res.body.id;
  }
  const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((k) => k.id);

  function expectForbidden(
    res: Awaited<ReturnType<Client['get']>>,
    required: 'write' | 'manage',
    granted: 'read' | 'write',
  ) {
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({
      code: 'KNOWLEDGE_BASE_FORBIDDEN',
      requiredAccess: required,
      grantedAccess: granted,
    });
    expect(res.body.detail).toContain(`You have ${granted} access`);
    expect(res.body.detail).toContain(`needs ${required} access`);
  }

  function expectNotFound(res: Awaited<ReturnType<Client['get']>>, hidden: string[] = []) {
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
    for (const secret of hidden) expect(res.raw).not.toContain(secret);
  }

  it('refuses a member deleting or re-ingesting documents of a knowledge base a tenant admin created (403, not 204/202)', async () => {
    const admin = tenant.admin.client;
    const kb = await createKnowledgeBase(admin);
    const documentId = await addDocument(admin, kb.id);

    // A member may not change it (this was 204 and 202 before knowledge bases had access) …
    expectForbidden(
      await bob.client.delete(kbUrl(kb.id, `/documents/${documentId}`)),
      'write',
      'read',
    );
    expectForbidden(
      await bob.client.post(kbUrl(kb.id, `/documents/${documentId}/reingest`)),
      'write',
      'read',
    );
    expectForbidden(
      await bob.client.post(kbUrl(kb.id, '/documents'), { title: 'Mine', text: 'Injected.' }),
      'write',
      'read',
    );
    expectForbidden(await bob.client.patch(kbUrl(kb.id), { name: 'renamed' }), 'manage', 'read');
    expectForbidden(await bob.client.delete(kbUrl(kb.id)), 'manage', 'read');

    // … but may read and search it (the default access is tenant:read).
    expect(kb).toMatchObject({
      access: 'tenant:read',
      ownerUserId: tenant.admin.id,
      permission: 'manage',
    });
    const seen = await bob.client.get(kbUrl(kb.id));
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ access: 'tenant:read', permission: 'read' });
    const found = await bob.client.post(kbUrl(kb.id, '/search'), { query: 'refund' });
    expect(found.status).toBe(200);
    expect(found.body.results[0].documentId).toBe(documentId);
    expect((await bob.client.get(kbUrl(kb.id, '/documents'))).status).toBe(200);

    const documents = await admin.get(kbUrl(kb.id, '/documents'));
    expect(documents.body.items).toEqual([
      expect.objectContaining({ id: documentId, status: 'ready' }),
    ]);
    expect((await admin.get(kbUrl(kb.id))).body.name).toBe(kb.name);
  });

  it('hides a private knowledge base (404) from other members, in lists too; admins see and manage it', async () => {
    const kb = await createKnowledgeBase(alice.client, { access: 'private' });
    expect(kb).toMatchObject({ access: 'private', ownerUserId: alice.id, permission: 'manage' });
    const documentId = await addDocument(alice.client, kb.id);

    for (const res of [
      await bob.client.get(kbUrl(kb.id)),
      await bob.client.post(kbUrl(kb.id, '/search'), { query: 'refund' }),
      await bob.client.get(kbUrl(kb.id, '/documents')),
      await bob.client.get(kbUrl(kb.id, `/documents/${documentId}`)),
      await bob.client.delete(kbUrl(kb.id, `/documents/${documentId}`)),
      await bob.client.post(kbUrl(kb.id, `/documents/${documentId}/reingest`)),
      await bob.client.post(kbUrl(kb.id, '/documents'), { title: 'x', text: 'x' }),
      await bob.client.patch(kbUrl(kb.id), { access: 'tenant:write' }),
      await bob.client.delete(kbUrl(kb.id)),
      await bob.client.get(kbUrl(kb.id, '/grants')),
      await bob.client.put(kbUrl(kb.id, `/grants/${bob.id}`), { permission: 'manage' }),
    ])
      expectNotFound(res, [kb.name]);

    expect(ids(await bob.client.get('/v1/knowledge-bases?limit=100'))).not.toContain(kb.id);
    const mine = await alice.client.get('/v1/knowledge-bases?limit=100');
    expect(mine.body.items).toContainEqual(
      expect.objectContaining({ id: kb.id, permission: 'manage' }),
    );
    const admins = await tenant.admin.client.get('/v1/knowledge-bases?limit=100');
    expect(admins.body.items).toContainEqual(
      expect.objectContaining({ id: kb.id, permission: 'manage', ownerUserId: alice.id }),
    );
    // The admin may change it; opening it to the tenant lets Bob read it (only read).
    expect(
      (await tenant.admin.client.patch(kbUrl(kb.id), { access: 'tenant:read' })).body,
    ).toMatchObject({ access: 'tenant:read' });
    expect((await bob.client.get(kbUrl(kb.id))).body.permission).toBe('read');
    expect(
      (await tenant.admin.client.delete(kbUrl(kb.id, `/documents/${documentId}`))).status,
    ).toBe(204);
    expect((await tenant.admin.client.delete(kbUrl(kb.id))).status).toBe(204);
  });

  it('lets everyone add, re-ingest and delete documents of a tenant:write knowledge base, but not manage it', async () => {
    const kb = await createKnowledgeBase(alice.client, { access: 'tenant:write' });
    expect((await bob.client.get(kbUrl(kb.id))).body.permission).toBe('write');
    const documentId = await addDocument(bob.client, kb.id);
    expect((await bob.client.post(kbUrl(kb.id, `/documents/${documentId}/reingest`))).status).toBe(
      202,
    );
    await waitForDocument(bob.client, kb.id, documentId);
    expect((await bob.client.delete(kbUrl(kb.id, `/documents/${documentId}`))).status).toBe(204);

    expectForbidden(await bob.client.patch(kbUrl(kb.id), { access: 'private' }), 'manage', 'write');
    expectForbidden(await bob.client.delete(kbUrl(kb.id)), 'manage', 'write');
    expectForbidden(
      await bob.client.put(kbUrl(kb.id, `/grants/${bob.id}`), { permission: 'manage' }),
      'manage',
      'write',
    );
    expectForbidden(await bob.client.get(kbUrl(kb.id, '/grants')), 'manage', 'write');
  });

  it('gives users read, write or manage by grant, and takes it away again', async () => {
    const kb = await createKnowledgeBase(alice.client, { access: 'private' });
    const grant = (permission: string, userId = bob.id) =>
      alice.client.put(kbUrl(kb.id, `/grants/${userId}`), { permission });

    const read = await grant('read');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ userId: bob.id, permission: 'read' });
    expect((await bob.client.get(kbUrl(kb.id))).body.permission).toBe('read');
    expect(ids(await bob.client.get('/v1/knowledge-bases?limit=100'))).toContain(kb.id);
    expectForbidden(
      await bob.client.post(kbUrl(kb.id, '/documents'), { title: 'x', text: 'x' }),
      'write',
      'read',
    );

    await grant('write');
    const documentId = await addDocument(bob.client, kb.id);
    expectForbidden(await bob.client.get(kbUrl(kb.id, '/grants')), 'manage', 'write');

    await grant('manage');
    expect((await bob.client.patch(kbUrl(kb.id), { description: 'Shared' })).status).toBe(200);
    const grants = await bob.client.get(kbUrl(kb.id, '/grants'));
    expect(grants.body.items).toEqual([
      expect.objectContaining({ userId: bob.id, permission: 'manage' }),
    ]);

    expect((await alice.client.delete(kbUrl(kb.id, `/grants/${bob.id}`))).status).toBe(204);
    expectNotFound(await bob.client.get(kbUrl(kb.id, `/documents/${documentId}`)));
    expect(ids(await bob.client.get('/v1/knowledge-bases?limit=100'))).not.toContain(kb.id);
    expect((await alice.client.delete(kbUrl(kb.id, `/grants/${bob.id}`))).status).toBe(404);

    // Only users of the tenant, with a known permission.
    const stranger = await createUser(await createTenant(t.app));
    expectNotFound(await grant('read', stranger.id));
    expect((await grant('owner')).status).toBe(400);
    expect((await grant('read', 'not-a-uuid')).status).toBe(400);
    const audit = await tenant.admin.client.get(
      '/v1/admin/audit-logs?action=knowledge_base.access_changed&limit=200',
    );
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ targetId: kb.id, actorUserId: alice.id }),
    );
  });

  it('lets admins set the tenant default access for new knowledge bases', async () => {
    const own = await createTenant(t.app);
    const [owner, other] = [await createUser(own), await createUser(own)];
    const settings = '/v1/admin/knowledge-base-settings';
    expect((await own.admin.client.get(settings)).body).toEqual({ defaultAccess: 'tenant:read' });
    expect((await owner.client.put(settings, { defaultAccess: 'tenant:write' })).status).toBe(403);
    expect((await own.admin.client.put(settings, { defaultAccess: 'everyone' })).status).toBe(400);

    const set = await own.admin.client.put(settings, { defaultAccess: 'private' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ defaultAccess: 'private' });
    expect((await own.admin.client.get(settings)).body).toEqual({ defaultAccess: 'private' });

    const hidden = await createKnowledgeBase(owner.client);
    expect(hidden.access).toBe('private');
    expectNotFound(await other.client.get(kbUrl(hidden.id)));
    // A creator may still choose.
    const open = await createKnowledgeBase(owner.client, { access: 'tenant:read' });
    expect((await other.client.get(kbUrl(open.id))).body.permission).toBe('read');
    // Other tenants keep the built-in default.
    expect((await tenant.admin.client.get(settings)).body).toEqual({
      defaultAccess: 'tenant:read',
    });
  });

  it('lets an API key act as its creator, reading only without rag:write', async () => {
    const kb = await createKnowledgeBase(alice.client, { access: 'private' });
    const key = async (user: Client, scopes: string[]) =>
      new Client(t.app, (await createApiKey(user, scopes)).key);
    const aliceReader = await key(alice.client, ['rag:read']);
    const aliceWriter = await key(alice.client, ['rag:read', 'rag:write']);
    const bobWriter = await key(bob.client, ['rag:read', 'rag:write']);
    const adminReader = await key(tenant.admin.client, ['rag:read']);

    expectNotFound(await bobWriter.get(kbUrl(kb.id)));
    expect(ids(await bobWriter.get('/v1/knowledge-bases?limit=100'))).not.toContain(kb.id);
    expect((await aliceReader.get(kbUrl(kb.id))).body.permission).toBe('read');
    expect(
      (await aliceReader.post(kbUrl(kb.id, '/documents'), { title: 'x', text: 'x' })).status,
    ).toBe(403);
    expect((await aliceWriter.get(kbUrl(kb.id))).body.permission).toBe('manage');
    await addDocument(aliceWriter, kb.id);
    expect((await adminReader.get(kbUrl(kb.id))).body.permission).toBe('read');

    // Made with a key: owned by the key's creator.
    const made = await createKnowledgeBase(aliceWriter, { access: 'private' });
    expect(made.ownerUserId).toBe(alice.id);
    expect((await alice.client.get(kbUrl(made.id))).body.permission).toBe('manage');
    expectNotFound(await bob.client.get(kbUrl(made.id)));
  });

  it('uses in a conversation only knowledge bases its caller may read, checked again at every turn', async () => {
    const kb = await createKnowledgeBase(alice.client, { access: 'private' });
    await addDocument(alice.client, kb.id);
    const question = { content: 'Which parcels need a customs declaration?' };

    // Attaching one the caller may not read is refused, as another tenant's is.
    expectNotFound(await bob.client.post('/v1/conversations', { knowledgeBaseIds: [kb.id] }));
    const plain = await bob.client.post('/v1/conversations', {});
    expectNotFound(
      await bob.client.patch(`/v1/conversations/${plain.body.id}`, { knowledgeBaseIds: [kb.id] }),
    );

    await alice.client.put(kbUrl(kb.id, `/grants/${bob.id}`), { permission: 'read' });
    const conversation = await bob.client.post('/v1/conversations', { knowledgeBaseIds: [kb.id] });
    expect(conversation.status).toBe(201);
    const answered = await bob.client.post(
      `/v1/conversations/${conversation.body.id}/messages`,
      question,
    );
    expect(answered.status).toBe(201);
    const citations = answered.body.assistantMessage.citations as { knowledgeBaseId: string }[];
    expect(citations.length).toBeGreaterThan(0);
    expect(citations.every((c) => c.knowledgeBaseId === kb.id)).toBe(true);
    expect(answered.body.assistantMessage.content).toContain('Norway');

    // The grant is taken away: the next turn no longer reads the knowledge base.
    await alice.client.delete(kbUrl(kb.id, `/grants/${bob.id}`));
    const after = await bob.client.post(
      `/v1/conversations/${conversation.body.id}/messages`,
      question,
    );
    expect(after.status).toBe(201);
    expect(after.body.assistantMessage.citations).toEqual([]);
    expect(after.body.assistantMessage.content).not.toContain('Norway');

    // The built-in knowledge_base_search tool asks the same question of its subject.
    const runner = t.app.get(ToolRunner);
    const search = async (subject: { tenantId: string; userId?: string; apiKeyId?: string }) => {
      const outcome = await runner.run(
        { subject, enabled: ['knowledge_base_search'], knowledgeBaseIds: [kb.id] },
        {
          id: `call_${randomUUID()}`,
          name: 'knowledge_base_search',
          arguments: '{"query":"customs"}',
        },
      );
      expect(outcome.status).toBe('ok');
      return JSON.parse(outcome.output).passages as unknown[];
    };
    expect(await search({ tenantId: tenant.id, userId: alice.id })).not.toEqual([]);
    expect(await search({ tenantId: tenant.id, userId: bob.id })).toEqual([]);
    const aliceChatKey = await createApiKey(alice.client, ['chat']);
    const bobChatKey = await createApiKey(bob.client, ['chat']);
    expect(await search({ tenantId: tenant.id, apiKeyId: aliceChatKey.id })).not.toEqual([]);
    expect(await search({ tenantId: tenant.id, apiKeyId: bobChatKey.id })).toEqual([]);
    // A revoked key reads nothing any more.
    expect((await alice.client.delete(`/v1/api-keys/${aliceChatKey.id}`)).status).toBe(204);
    expect(await search({ tenantId: tenant.id, apiKeyId: aliceChatKey.id })).toEqual([]);
  });

  it('reads knowledge bases made before owners as tenant:read, managed by admins', async () => {
    // A row as the code before this change wrote it: no owner, no access.
    const id = randomUUID();
    await t.app
      .get(DataSource)
      .query(
        `INSERT INTO knowledge_bases (id, tenant_id, name, chunk_tokens, chunk_overlap) VALUES ($1, $2, $3, 400, 50)`,
        [id, tenant.id, `legacy-${id.slice(0, 8)}`],
      );
    const seen = await bob.client.get(kbUrl(id));
    expect(seen.body).toMatchObject({
      access: 'tenant:read',
      ownerUserId: null,
      permission: 'read',
    });
    expectForbidden(await bob.client.delete(kbUrl(id)), 'manage', 'read');
    expect((await tenant.admin.client.get(kbUrl(id))).body.permission).toBe('manage');
    expect((await tenant.admin.client.delete(kbUrl(id))).status).toBe(204);
  });

  it('describes access, permission and KNOWLEDGE_BASE_FORBIDDEN in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    const schemas = doc.components.schemas;
    expect(Object.keys(schemas.KnowledgeBaseDto.properties)).toEqual(
      expect.arrayContaining(['access', 'ownerUserId', 'permission']),
    );
    expect(schemas.KnowledgeBaseDto.properties.access.enum).toEqual([
      'private',
      'tenant:read',
      'tenant:write',
    ]);
    expect(schemas.CreateKnowledgeBaseDto.properties.access).toBeDefined();
    expect(schemas.UpdateKnowledgeBaseDto.properties.access).toBeDefined();
    const removeDocument = doc.paths['/v1/knowledge-bases/{id}/documents/{documentId}'].delete;
    expect(removeDocument.responses['403'].description).toContain('KNOWLEDGE_BASE_FORBIDDEN');
    expect(removeDocument.responses['404'].description).toContain('may not read');
    expect(doc.paths['/v1/knowledge-bases/{id}/grants/{userId}'].put).toBeDefined();
    expect(doc.paths['/v1/admin/knowledge-base-settings'].put).toBeDefined();
  });
});

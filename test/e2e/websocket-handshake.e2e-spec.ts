import { BEARER_SUBPROTOCOL, WebSocketHandshake } from '@parley/auth';
import type { IncomingMessage } from 'node:http';
import { createApiKey, createTenant, type TestTenant } from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';

const upgrade = (headers: Record<string, string>, url = '/v1/ws'): IncomingMessage =>
  ({ headers, url }) as unknown as IncomingMessage;

describe('WebSocket handshake authentication', () => {
  let t: TestApp;
  let tenant: TestTenant;
  let handshake: WebSocketHandshake;

  beforeAll(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: 'https://console.example.com' } });
    tenant = await createTenant(t.app);
    handshake = t.app.get(WebSocketHandshake);
  });
  afterAll(() => t?.close());

  it('accepts an access token in the Authorization header', async () => {
    const { principal, protocol } = await handshake.authenticate(
      upgrade({ authorization: `Bearer ${tenant.admin.client.credential}` }),
    );
    expect(principal).toMatchObject({ kind: 'user', userId: tenant.admin.id });
    expect(protocol).toBeUndefined();
  });

  it('accepts an API key in X-API-Key', async () => {
    const { key, id } = await createApiKey(tenant.admin.client, ['audio']);
    const { principal } = await handshake.authenticate(upgrade({ 'x-api-key': key }));
    expect(principal).toMatchObject({ kind: 'apiKey', apiKeyId: id, scopes: ['audio'] });
  });

  it('accepts a token in the subprotocol list from an allowed browser origin, and names the protocol to echo', async () => {
    const { principal, protocol } = await handshake.authenticate(
      upgrade({
        origin: 'https://console.example.com',
        'sec-websocket-protocol': `${BEARER_SUBPROTOCOL}, ${tenant.admin.client.credential}`,
      }),
    );
    expect(principal.userId).toBe(tenant.admin.id);
    expect(protocol).toBe(BEARER_SUBPROTOCOL);
  });

  it('refuses an origin that is not on the allowlist', async () => {
    await expect(
      handshake.authenticate(
        upgrade({
          origin: 'https://evil.example.com',
          authorization: `Bearer ${tenant.admin.client.credential}`,
        }),
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  it('never takes a token from the URL', async () => {
    await expect(
      handshake.authenticate(upgrade({}, `/v1/ws?access_token=${tenant.admin.client.credential}`)),
    ).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('refuses invalid credentials', async () => {
    await expect(
      handshake.authenticate(upgrade({ authorization: 'Bearer not.a.jwt' })),
    ).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(
      handshake.authenticate(upgrade({ 'x-api-key': `pk_${'x'.repeat(43)}` })),
    ).rejects.toMatchObject({ code: 'INVALID_API_KEY' });
  });
});

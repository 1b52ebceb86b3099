import { actorOf, LEVEL } from './knowledge-base-access.service';

describe('actorOf (who a caller is for knowledge base access)', () => {
  const tenantId = 't';

  it('gives users their own rules, and admins and superadmins everything', () => {
    expect(actorOf(tenantId, { userId: 'u', role: 'member', superadmin: false }, 'user')).toEqual({
      tenantId,
      userId: 'u',
      admin: false,
      cap: LEVEL.manage,
    });
    expect(actorOf(tenantId, { userId: 'u', role: 'admin', superadmin: false }, 'user').admin).toBe(
      true,
    );
    expect(actorOf(tenantId, { userId: 'u', role: 'member', superadmin: true }, 'user').admin).toBe(
      true,
    );
  });

  it('makes an API key act as its creator, reading only without rag:write', () => {
    const creator = { userId: 'c', role: 'admin' as const, superadmin: false };
    expect(actorOf(tenantId, { ...creator, keyScopes: ['rag:read'] }, 'apiKey')).toEqual({
      tenantId,
      userId: 'c',
      admin: true,
      cap: LEVEL.read,
    });
    expect(actorOf(tenantId, { ...creator, keyScopes: ['chat'] }, 'apiKey').cap).toBe(LEVEL.read);
    expect(
      actorOf(tenantId, { ...creator, keyScopes: ['rag:read', 'rag:write'] }, 'apiKey').cap,
    ).toBe(LEVEL.manage);
  });

  it('gives a caller that no longer resolves (revoked key, disabled user) nothing', () => {
    expect(actorOf(tenantId, undefined, 'apiKey')).toEqual({ tenantId, admin: false, cap: 0 });
  });
});

export const ROLES = ['admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** What an API key may be allowed to do. */
export const SCOPES = ['chat', 'rag:read', 'rag:write', 'audio', 'usage:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes a member may put on a key of their own; admins may grant all. */
export const MEMBER_GRANTABLE_SCOPES: readonly Scope[] = ['chat', 'rag:read', 'rag:write', 'audio'];

/**
 * The most a key may do, by its creator's current role: a key's effective scopes are its stored
 * scopes that its creator's role still allows, worked out on every request (so a demotion takes
 * the key's `admin` and `usage:read` scopes with it at once).
 */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  admin: SCOPES,
  member: MEMBER_GRANTABLE_SCOPES,
};

export const API_KEY_PREFIX = 'pk_';

export const ROLES = ['admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** What an API key may be allowed to do. */
export const SCOPES = ['chat', 'rag:read', 'rag:write', 'audio', 'usage:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes a member may put on a key of their own; admins may grant all. */
export const MEMBER_GRANTABLE_SCOPES: readonly Scope[] = ['chat', 'rag:read', 'rag:write', 'audio'];

export const API_KEY_PREFIX = 'pk_';

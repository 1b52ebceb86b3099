import type { Schemas } from '../api/client';

export type Scope = Schemas['CreateApiKeyDto']['scopes'][number];

/** Every scope, with what it allows. The type check fails when the API adds one not listed here. */
export const SCOPE_INFO = {
  chat: 'Conversations and chat completions',
  'rag:read': 'Search knowledge bases',
  'rag:write': 'Manage knowledge bases and documents',
  audio: 'Speech jobs and voice',
  'usage:read': 'Read usage and cost',
  admin: 'The admin API of the tenant',
} as const satisfies Record<Scope, string>;

export const SCOPES = Object.keys(SCOPE_INFO) as Scope[];

/** What a member may put on a key of their own (admins may grant every scope). */
export const MEMBER_SCOPES: readonly Scope[] = ['chat', 'rag:read', 'rag:write', 'audio'];

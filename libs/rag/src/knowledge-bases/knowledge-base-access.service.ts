import { Injectable } from '@nestjs/common';
import { type ActingUser, ActingUsers, type Principal } from '@parley/auth';

/** What everyone in the tenant may do with a knowledge base (besides its owner, grants, admins). */
export const KNOWLEDGE_BASE_ACCESS = ['private', 'tenant:read', 'tenant:write'] as const;
export type KnowledgeBaseAccessSetting = (typeof KNOWLEDGE_BASE_ACCESS)[number];

/** A per-user grant. */
export const KNOWLEDGE_BASE_PERMISSIONS = ['read', 'write', 'manage'] as const;
export type KnowledgeBasePermission = (typeof KNOWLEDGE_BASE_PERMISSIONS)[number];

/** Levels, ordered: read ⊂ write (documents) ⊂ manage (settings, access, deletion). */
export const LEVEL: Readonly<Record<KnowledgeBasePermission, number>> = {
  read: 1,
  write: 2,
  manage: 3,
};
export const permissionOf = (level: number): KnowledgeBasePermission | undefined =>
  KNOWLEDGE_BASE_PERMISSIONS[level - 1];

/** The default `access` of a tenant's new knowledge bases until an admin sets another. */
export const DEFAULT_KNOWLEDGE_BASE_ACCESS: KnowledgeBaseAccessSetting = 'tenant:read';

/**
 * Who is asking, for knowledge base access: the user whose owner/grant rules apply, whether
 * they are a tenant admin (everything in the tenant), and the most this caller may do whatever
 * the user could (an API key's scopes). A caller that is no user at all (a tenant-level job)
 * has the tenant-wide `access` only.
 */
export interface KnowledgeBaseActor {
  tenantId: string;
  userId?: string;
  admin: boolean;
  /** 0 (nothing) to 3 (manage). */
  cap: number;
}

/**
 * How a caller's rights on knowledge bases are worked out. API keys act as their creator
 * (owner, grants, admin role), capped by their scopes: `rag:write` allows up to manage,
 * anything else (`rag:read`, or `chat` for a conversation's retrieval) reads only.
 */
export function actorOf(
  tenantId: string,
  user: ActingUser | undefined,
  kind: 'user' | 'apiKey',
): KnowledgeBaseActor {
  if (!user) return { tenantId, admin: false, cap: 0 };
  const admin = user.role === 'admin' || user.superadmin;
  const cap = kind === 'user' || user.keyScopes?.includes('rag:write') ? LEVEL.manage : LEVEL.read;
  return { tenantId, userId: user.userId, admin, cap };
}

@Injectable()
export class KnowledgeBaseAccess {
  constructor(private readonly actingUsers: ActingUsers) {}

  /** The actor of a request's principal (an API key's creator is read now). */
  async forPrincipal(principal: Principal): Promise<KnowledgeBaseActor> {
    if (principal.kind === 'user')
      return actorOf(
        principal.tenantId,
        principal.userId
          ? { userId: principal.userId, role: principal.role!, superadmin: principal.superadmin }
          : undefined,
        'user',
      );
    return actorOf(
      principal.tenantId,
      await this.actingUsers.resolve({
        tenantId: principal.tenantId,
        apiKeyId: principal.apiKeyId,
      }),
      'apiKey',
    );
  }

  /**
   * The actor of a subject outside its request (a chat turn, a tool call), read now: a user
   * disabled or a key revoked since reads nothing. A subject with neither a user nor a key is
   * a tenant-level caller and reads what the whole tenant may read.
   */
  async forSubject(subject: {
    tenantId: string;
    userId?: string;
    apiKeyId?: string;
  }): Promise<KnowledgeBaseActor> {
    if (!subject.userId && !subject.apiKeyId)
      return { tenantId: subject.tenantId, admin: false, cap: LEVEL.read };
    return actorOf(
      subject.tenantId,
      await this.actingUsers.resolve(subject),
      subject.apiKeyId ? 'apiKey' : 'user',
    );
  }
}

import type { Principal } from '@parley/auth';
import type { CostSubject } from '@parley/cost';
import type { AudioJobRow } from './audio-jobs.service';

/** Whose budgets a job spends: the owner who queued it. */
export const subjectOf = (row: AudioJobRow): CostSubject => ({
  tenantId: row.tenant_id,
  userId: row.owner_user_id ?? undefined,
  apiKeyId: row.owner_api_key_id ?? undefined,
});

/** The owner as the chat pipeline sees them, for a voice turn run by a worker. */
export const principalOf = (row: AudioJobRow): Principal => ({
  kind: row.owner_api_key_id ? 'apiKey' : 'user',
  tenantId: row.tenant_id,
  userId: row.owner_user_id ?? undefined,
  apiKeyId: row.owner_api_key_id ?? undefined,
  role: (row.options.role as Principal['role']) ?? undefined,
  scopes: ['chat', 'audio'],
  superadmin: false,
});

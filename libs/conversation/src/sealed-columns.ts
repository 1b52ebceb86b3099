import { jsonColumn, type SealedColumn, textColumn } from '@parley/core';

/** The conversation lib's sealed columns, for `npm run keys:rotate` (contexts as they are sealed). */
export const CONVERSATION_SEALED_COLUMNS: SealedColumn[] = [
  textColumn('messages', 'content'),
  jsonColumn('messages', 'steps', (r) => ({ tenantId: r.tenantId, id: `${r.key}:steps` })),
  textColumn('tool_approvals', 'arguments'),
  textColumn(
    'agent_pauses',
    'state',
    (r) => ({ tenantId: r.tenantId, id: `${r.key}:pause` }),
    'message_id',
  ),
  {
    ...jsonColumn('idempotency_keys', 'response', (r) => ({ tenantId: r.tenantId, id: r.key })),
    // Keyed by (tenant, principal, key): the context id is `principal:key`.
    key: `principal || ':' || key`,
  },
];

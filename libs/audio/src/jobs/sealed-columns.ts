import { type SealedColumn, textColumn } from '@parley/core';
import { resealResult } from './audio-result-seal';

/** The audio lib's sealed columns, for `npm run keys:rotate`. */
export const AUDIO_SEALED_COLUMNS: SealedColumn[] = [
  textColumn('audio_jobs', 'text'),
  {
    table: 'audio_jobs',
    column: 'result',
    key: 'id',
    tenant: 'tenant_id',
    json: true,
    // The result's texts are sealed field by field; the rest of it stays readable.
    reseal: (value, row, cipher) => {
      if (!value || typeof value !== 'object') return undefined;
      const owner = { id: row.key, tenant_id: row.tenantId };
      const next = resealResult(cipher, owner, value as Record<string, unknown>);
      return next === undefined ? undefined : JSON.stringify(next);
    },
  },
];

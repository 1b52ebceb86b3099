import { type KeyRingCipher, type SealedColumn, textColumn } from '@parley/core';
import { type ResultOwner, sealResult } from './audio-result-seal';

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
      const result = value as Record<string, unknown>;
      if (!texts(result).some((t) => !cipher.isCurrent(t))) return undefined;
      const owner = { id: row.key, tenant_id: row.tenantId };
      return JSON.stringify(sealResult(cipher, owner, inClear(cipher, owner, result)));
    },
  },
];

function texts(result: Record<string, unknown>): string[] {
  const transcript = result.transcript as Record<string, unknown> | undefined;
  const reply = result.reply as Record<string, unknown> | undefined;
  return [result.text, transcript?.text, reply?.content].filter(
    (t): t is string => typeof t === 'string',
  );
}

/** The result with its texts in clear: sealed ones opened, clear ones (from before keys) kept. */
function inClear(
  cipher: KeyRingCipher,
  owner: ResultOwner,
  result: Record<string, unknown>,
): Record<string, unknown> {
  const open = (text: string, path: string) =>
    text.startsWith('enc:')
      ? cipher.open(text, { tenantId: owner.tenant_id, id: `${owner.id}:${path}` })
      : text;
  const out = { ...result };
  if (typeof out.text === 'string') out.text = open(out.text, 'text');
  const t = out.transcript as Record<string, unknown> | undefined;
  if (t && typeof t.text === 'string')
    out.transcript = { ...t, text: open(t.text, 'transcript.text') };
  const r = out.reply as Record<string, unknown> | undefined;
  if (r && typeof r.content === 'string')
    out.reply = { ...r, content: open(r.content, 'reply.content') };
  return out;
}

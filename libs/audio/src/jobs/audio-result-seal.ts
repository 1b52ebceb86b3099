import type { KeyRingCipher } from '@parley/core';

/** The row a result belongs to: its id and tenant are bound to each sealed field. */
export interface ResultOwner {
  id: string;
  tenant_id: string;
}

type Result = Record<string, unknown>;

/**
 * The text in an audio job's result is what a person said or was told (a transcript, a voice
 * reply): it is sealed at rest like message content. Each path names one text field; the field
 * is bound to the row and its path, so a sealed value moved to another job or field won't open.
 */
const TEXT_PATHS = [['text'], ['transcript', 'text'], ['reply', 'content']] as const;

export function sealResult(cipher: KeyRingCipher, owner: ResultOwner, result: Result): Result {
  return mapTexts(result, (text, path) =>
    cipher.seal(text, { tenantId: owner.tenant_id, id: `${owner.id}:${path}` }),
  );
}

export function openResult(cipher: KeyRingCipher, owner: ResultOwner, result: Result): Result;
export function openResult(
  cipher: KeyRingCipher,
  owner: ResultOwner,
  result: Result | null,
): Result | null;
export function openResult(
  cipher: KeyRingCipher,
  owner: ResultOwner,
  result: Result | null,
): Result | null {
  if (!result) return result;
  return mapTexts(result, (text, path) =>
    cipher.open(text, { tenantId: owner.tenant_id, id: `${owner.id}:${path}` }),
  );
}

/**
 * For `npm run keys:rotate`: the result with every text sealed under the current key (clear
 * ones from before keys were set included), or undefined when all of them already are.
 */
export function resealResult(
  cipher: KeyRingCipher,
  owner: ResultOwner,
  result: Result,
): Result | undefined {
  let changed = false;
  const next = mapTexts(result, (text, path) => {
    const sealed = cipher.reseal(text, { tenantId: owner.tenant_id, id: `${owner.id}:${path}` });
    if (sealed === undefined) return text;
    changed = true;
    return sealed;
  });
  return changed ? next : undefined;
}

function mapTexts(result: Result, map: (text: string, path: string) => string): Result {
  const out: Result = { ...result };
  for (const path of TEXT_PATHS) {
    if (path.length === 1) {
      if (typeof out[path[0]] === 'string') out[path[0]] = map(out[path[0]] as string, path[0]);
      continue;
    }
    const inner = out[path[0]];
    if (inner && typeof inner === 'object' && typeof (inner as Result)[path[1]] === 'string')
      out[path[0]] = {
        ...(inner as Result),
        [path[1]]: map((inner as Result)[path[1]] as string, path.join('.')),
      };
  }
  return out;
}

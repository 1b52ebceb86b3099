import type { KeyRingCipher, SealContext } from '@parley/core';

/**
 * How a message's personal data is sealed at rest: its content, and its agent steps (model turns,
 * tool arguments and results) as one JSON text. Each is bound to the message's tenant and id,
 * the steps with a suffix, so neither opens in another row or in the other's column.
 */
export interface MessageKey {
  tenantId: string;
  id: string;
}

const contentContext = (m: MessageKey): SealContext => ({ tenantId: m.tenantId, id: m.id });
const stepsContext = (m: MessageKey): SealContext => ({
  tenantId: m.tenantId,
  id: `${m.id}:steps`,
});

export const sealContent = (cipher: KeyRingCipher, m: MessageKey, text: string): string =>
  cipher.seal(text, contentContext(m));

export const openContent = (cipher: KeyRingCipher, m: MessageKey, stored: string): string =>
  cipher.open(stored, contentContext(m));

/** Steps as the jsonb column stores them: a sealed string, or the array without keys. */
export function sealSteps(cipher: KeyRingCipher, m: MessageKey, steps: unknown[]): unknown {
  if (steps.length === 0 || !cipher.canEncrypt) return steps;
  return cipher.seal(JSON.stringify(steps), stepsContext(m));
}

export function openSteps(cipher: KeyRingCipher, m: MessageKey, stored: unknown): unknown[] {
  if (typeof stored === 'string') return JSON.parse(cipher.open(stored, stepsContext(m)));
  if (!Array.isArray(stored) || stored.length === 0) return [];
  // Clear steps are refused once keys are set (the cipher says so); read as they are otherwise.
  return JSON.parse(cipher.open(JSON.stringify(stored), stepsContext(m)));
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_KEY_PREFIX } from '../auth.constants';

/** Characters of the key, after `pk_`, that are stored in clear to find the row. */
const LOOKUP_CHARS = 10;

/** `pk_` + 32 random bytes in base64url (43 characters). */
export function newApiKeySecret(): { key: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: lookupPrefix(key) };
}

export function lookupPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + LOOKUP_CHARS);
}

export function isWellFormedApiKey(key: string): boolean {
  return new RegExp(`^${API_KEY_PREFIX}[A-Za-z0-9_-]{43}$`).test(key);
}

/** HMAC-SHA-256 with the server's pepper: a stolen table alone cannot be checked offline. */
export function hashApiKey(key: string, pepper: string): string {
  return createHmac('sha256', pepper).update(key).digest('base64url');
}

export function sameHash(a: string | null | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

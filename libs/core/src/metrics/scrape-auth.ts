import { timingSafeEqual } from 'node:crypto';

/**
 * Whether a scrape may read the metrics: no token configured, or `Bearer <token>` sent. (On the
 * main port the controller first refuses when no token is configured.)
 */
export function scrapeAllowed(authorization: string | undefined, token: string | undefined) {
  if (!token) return true;
  const given = Buffer.from(authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

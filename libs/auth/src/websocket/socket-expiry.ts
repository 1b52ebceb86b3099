import type { SocketAuth } from './handshake.service';

/** Close codes in the private range, so a client can tell why (like HTTP 401 and 403). */
export const SOCKET_CLOSE = { unauthorized: 4401, forbidden: 4403 } as const;

/** setTimeout's longest delay; a later expiry is re-armed when it comes. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Closes a socket with 4401 when its access token expires, so a client knows to reconnect with a
 * fresh token (an API key has no expiry here: each message re-checks it). Returns the cancel.
 */
export function closeAtExpiry(
  auth: Pick<SocketAuth, 'expiresAt'>,
  close: (code: number, reason: string) => void,
  now: () => number = Date.now,
): () => void {
  if (auth.expiresAt === undefined) return () => undefined;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = auth.expiresAt! - now();
    if (left <= 0)
      return close(SOCKET_CLOSE.unauthorized, 'access token expired; reconnect with a fresh one');
    timer = setTimeout(arm, Math.min(left, MAX_DELAY_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

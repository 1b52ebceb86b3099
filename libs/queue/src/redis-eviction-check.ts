import { Redis } from 'ioredis';

export type EvictionCheck =
  { ok: true; policy: string } | { ok: false; policy: string } | { ok: 'unknown'; reason: string };

/**
 * Reads Redis's `maxmemory-policy`. BullMQ needs `noeviction`: any other policy lets Redis
 * drop job keys and locks under memory pressure, which loses jobs silently. A server that
 * hides CONFIG (some managed services) or cannot be reached yet answers `unknown`.
 */
export async function checkRedisEviction(url: string): Promise<EvictionCheck> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy === undefined) return { ok: 'unknown', reason: 'CONFIG GET returned nothing' };
    return policy === 'noeviction' ? { ok: true, policy } : { ok: false, policy };
  } catch (error) {
    return { ok: 'unknown', reason: (error as Error).message };
  } finally {
    client.disconnect();
  }
}

import { Injectable } from '@nestjs/common';

const TTL_MS = 5_000;

/**
 * What admission reads before every paid call (budget overrides, cost settings, tenant prices)
 * changes rarely: it is kept for a few seconds per subject. Writes through this instance drop
 * the tenant's entries at once; other instances see a change within TTL_MS. Spend and
 * reservations are never cached: they are read and written under the row locks.
 */
@Injectable()
export class SnapshotCache {
  private readonly entries = new Map<string, { value: unknown; until: number }>();

  get<T>(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until > Date.now()) return hit.value as T;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: unknown): void {
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { value, until: Date.now() + TTL_MS });
  }

  /** Drops a tenant's entries (keys start with its id), or all of them (a global change). */
  invalidate(tenantId: string | null): void {
    if (tenantId === null) return this.entries.clear();
    for (const key of this.entries.keys())
      if (key.startsWith(`${tenantId}|`)) this.entries.delete(key);
  }
}

import type { DataSource } from 'typeorm';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns true or the bound passes; returns how long it took. */
export async function within(
  boundMs: number,
  probe: () => Promise<boolean>,
  what: string,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > boundMs) throw new Error(`${what}: not within ${boundMs} ms`);
    await sleep(100);
  }
}

/**
 * Invariant 4, budget conservation, for one tenant once it is quiet: nothing is reserved
 * (no held reservation, no reserved amount on any counter), and what the counters say was
 * spent is the sum of the ledger. Returns the figures for the test's own checks.
 */
export async function budgetConservation(
  db: DataSource,
  tenantId: string,
): Promise<{ held: number; reserved: string; spent: string; ledger: string }> {
  const [held] = await db.query(
    `SELECT count(*)::int AS n FROM cost_reservations WHERE tenant_id = $1 AND status = 'held'`,
    [tenantId],
  );
  // The tenant's own budget (scope tenant) sees every charge of the tenant.
  const [counters] = await db.query(
    `SELECT coalesce(sum(reserved_usd), 0)::numeric(20, 9)::text AS reserved,
            coalesce(sum(spent_usd), 0)::numeric(20, 9)::text AS spent
       FROM budget_counters WHERE budget_key = $1`,
    [`tenant:${tenantId}`],
  );
  const [ledger] = await db.query(
    `SELECT coalesce(sum(cost_usd), 0)::numeric(20, 9)::text AS total FROM usage_ledger WHERE tenant_id = $1`,
    [tenantId],
  );
  return { held: held.n, reserved: counters.reserved, spent: counters.spent, ledger: ledger.total };
}

/** Invariant 3: no request produced two assistant messages (or two ledger rows for chat). */
export async function duplicatesPerRequest(db: DataSource, tenantId: string): Promise<string[]> {
  const rows: { request_id: string }[] = await db.query(
    `SELECT m.request_id FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE c.tenant_id = $1 AND m.role = 'assistant' AND m.request_id IS NOT NULL
      GROUP BY m.request_id HAVING count(*) > 1`,
    [tenantId],
  );
  return rows.map((r) => r.request_id);
}

/** Invariant 5: text that must never appear in a log line or an error body. */
export function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => s && text.includes(s));
}

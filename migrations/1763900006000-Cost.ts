import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cost control: tenant price overrides, budget overrides, per-tenant cost settings, budget
 * counters per window, reservations, and the usage ledger. Money is numeric(20, 9): exact, in
 * US dollars to the nano-dollar.
 */
export class Cost1763900006000 implements MigrationInterface {
  name = 'Cost1763900006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_prices (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        model text NOT NULL,
        input_per_mtok numeric(20, 9) NOT NULL CHECK (input_per_mtok >= 0),
        output_per_mtok numeric(20, 9) NOT NULL CHECK (output_per_mtok >= 0),
        cached_input_per_mtok numeric(20, 9) CHECK (cached_input_per_mtok >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, model)
      )`);
    // scope_id is null only for the global budget; tenant_id is null only for it too.
    await q.query(`
      CREATE TABLE budgets (
        id uuid PRIMARY KEY,
        tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        scope text NOT NULL CHECK (scope IN ('global', 'tenant', 'user', 'apiKey')),
        scope_id uuid,
        period text NOT NULL CHECK (period IN ('day', 'month')),
        limit_usd numeric(20, 9) NOT NULL CHECK (limit_usd >= 0),
        per_request_limit_usd numeric(20, 9) CHECK (per_request_limit_usd > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((scope = 'global') = (scope_id IS NULL)),
        CHECK ((scope = 'global') = (tenant_id IS NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX budgets_scope_period ON budgets (scope, COALESCE(scope_id, '00000000-0000-0000-0000-000000000000'), period)`,
    );
    await q.query(`CREATE INDEX budgets_tenant ON budgets (tenant_id)`);
    await q.query(`
      CREATE TABLE cost_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        time_zone text NOT NULL DEFAULT 'UTC',
        fail_open boolean,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per budget and window ("tenant:<id>", "day:2026-11-23"): windows are named by
    // their start, so nothing resets them and a missed job cannot carry spend over.
    await q.query(`
      CREATE TABLE budget_counters (
        budget_key text NOT NULL,
        window_id text NOT NULL,
        tenant_id uuid,
        limit_usd numeric(20, 9) NOT NULL,
        spent_usd numeric(20, 9) NOT NULL DEFAULT 0,
        reserved_usd numeric(20, 9) NOT NULL DEFAULT 0 CHECK (reserved_usd >= 0),
        resets_at timestamptz NOT NULL,
        threshold_alerted boolean NOT NULL DEFAULT false,
        exhausted_alerted boolean NOT NULL DEFAULT false,
        PRIMARY KEY (budget_key, window_id)
      )`);
    await q.query(`
      CREATE TABLE cost_reservations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        request_id text,
        amount_usd numeric(20, 9) NOT NULL,
        budget_keys text[] NOT NULL,
        window_ids text[] NOT NULL,
        status text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'settled', 'expired')),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX cost_reservations_held ON cost_reservations (expires_at) WHERE status = 'held'`,
    );
    // Admission in one call, so budget rows stay locked only while it runs (not across round
    // trips to the app): bound the lock wait, lock the rows in key order (no deadlocks), see
    // their latest values, and reserve on all of them or on none. Returns the rows as found and
    // the verdict; no rows for a budget whose window has no counter yet.
    await q.query(`
      CREATE FUNCTION cost_reserve(
        p_keys text[], p_windows text[], p_limits numeric[], p_amount numeric,
        p_id uuid, p_tenant uuid, p_request text, p_expires timestamptz, p_lock_timeout text
      ) RETURNS TABLE (budget_key text, window_id text, spent text, reserved text, ok boolean)
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      BEGIN
        PERFORM set_config('lock_timeout', p_lock_timeout, true);
        RETURN QUERY
          WITH wanted AS (
            SELECT * FROM unnest(p_keys, p_windows, p_limits) AS w(budget_key, window_id, limit_usd)
          ), locked AS (
            SELECT c.budget_key, c.window_id, c.spent_usd, c.reserved_usd, w.limit_usd
              FROM budget_counters c JOIN wanted w USING (budget_key, window_id)
             ORDER BY c.budget_key, c.window_id
               FOR UPDATE OF c
          ), verdict AS (
            SELECT count(*) = cardinality(p_keys)
                   AND coalesce(bool_and(l.spent_usd + l.reserved_usd + p_amount <= l.limit_usd), false) AS ok
              FROM locked l
          ), held AS (
            UPDATE budget_counters c SET reserved_usd = c.reserved_usd + p_amount, limit_usd = w.limit_usd
              FROM wanted w, verdict v
             WHERE v.ok AND c.budget_key = w.budget_key AND c.window_id = w.window_id
            RETURNING 1
          ), reservation AS (
            INSERT INTO cost_reservations (id, tenant_id, request_id, amount_usd, budget_keys, window_ids, expires_at)
            SELECT p_id, p_tenant, p_request, p_amount, p_keys, p_windows, p_expires FROM verdict v WHERE v.ok
            RETURNING 1
          )
          SELECT l.budget_key, l.window_id, l.spent_usd::text, l.reserved_usd::text, (SELECT v.ok FROM verdict v)
            FROM locked l;
      END
      $fn$`);

    await q.query(`
      CREATE TABLE usage_ledger (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid,
        api_key_id uuid,
        request_id text,
        conversation_id uuid,
        kind text NOT NULL CHECK (kind IN ('chat', 'embedding', 'speech_to_text', 'text_to_speech')),
        provider text,
        model text,
        prompt_tokens integer NOT NULL DEFAULT 0,
        completion_tokens integer NOT NULL DEFAULT 0,
        cached_tokens integer NOT NULL DEFAULT 0,
        audio_seconds numeric(12, 3) NOT NULL DEFAULT 0,
        characters integer NOT NULL DEFAULT 0,
        cost_usd numeric(20, 9) NOT NULL,
        latency_ms integer,
        status text NOT NULL,
        cache_hit boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX usage_ledger_tenant_time ON usage_ledger (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION cost_reserve');
    for (const table of [
      'usage_ledger',
      'cost_reservations',
      'budget_counters',
      'cost_settings',
      'budgets',
      'model_prices',
    ])
      await q.query(`DROP TABLE ${table}`);
  }
}

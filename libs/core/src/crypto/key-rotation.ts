import type { KeyRingCipher, SealContext } from './key-ring-cipher.service';

/**
 * A column that holds sealed values, as the lib that owns the table describes it, so that
 * `npm run keys:rotate` can re-encrypt it without knowing the lib.
 */
export interface SealedColumn {
  table: string;
  column: string;
  /** The row's unique key column (batches walk it in order; updates target it). */
  key: string;
  /** The column with the row's tenant. */
  tenant: string;
  /** A jsonb column (values are compared and written as JSON text). */
  json: boolean;
  /** How the column's value is stored and re-sealed; undefined when nothing changes. */
  reseal(value: unknown, row: { key: string; tenantId: string }, cipher: KeyRingCipher): unknown;
}

/** A text column: the sealed text itself. */
export function textColumn(
  table: string,
  column: string,
  contextOf: (row: { key: string; tenantId: string }) => SealContext = (r) => ({
    tenantId: r.tenantId,
    id: r.key,
  }),
  key = 'id',
): SealedColumn {
  return {
    table,
    column,
    key,
    tenant: 'tenant_id',
    json: false,
    reseal: (value, row, cipher) =>
      typeof value === 'string' ? cipher.reseal(value, contextOf(row)) : undefined,
  };
}

/**
 * A jsonb column that holds one sealed string, or (written without keys) a clear JSON value: the
 * clear value is sealed as its JSON text. Empty arrays and objects carry nothing and stay.
 */
export function jsonColumn(
  table: string,
  column: string,
  contextOf: (row: { key: string; tenantId: string }) => SealContext,
  key = 'id',
): SealedColumn {
  return {
    table,
    column,
    key,
    tenant: 'tenant_id',
    json: true,
    reseal: (value, row, cipher) => {
      if (value === null || value === undefined) return undefined;
      if (typeof value === 'object' && Object.keys(value).length === 0) return undefined;
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const sealed = cipher.reseal(text, contextOf(row));
      return sealed === undefined ? undefined : JSON.stringify(sealed);
    },
  };
}

type Query = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

export interface RotationProgress {
  table: string;
  column: string;
  examined: number;
  resealed: number;
}

/**
 * Re-encrypts every value of the columns under the current key, in batches walked by key.
 * Resumable: values already current are skipped, so a run that stopped is simply run again.
 * A row written meanwhile is left to its writer (the update matches the old value only).
 */
export async function rotateKeys(
  query: Query,
  cipher: KeyRingCipher,
  columns: SealedColumn[],
  options: { batchSize?: number; onBatch?: (progress: RotationProgress) => void } = {},
): Promise<RotationProgress[]> {
  const batchSize = options.batchSize ?? 500;
  const done: RotationProgress[] = [];
  for (const c of columns) {
    const progress: RotationProgress = {
      table: c.table,
      column: c.column,
      examined: 0,
      resealed: 0,
    };
    let after: string | null = null;
    for (;;) {
      const rows = await query(
        `SELECT ${c.key}::text AS key, ${c.tenant}::text AS tenant, ${c.column} AS value
           FROM ${c.table}
          WHERE ${c.column} IS NOT NULL AND ($1::text IS NULL OR ${c.key}::text > $1)
          ORDER BY ${c.key}::text LIMIT $2`,
        [after, batchSize],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const key = row.key as string;
        const next = c.reseal(row.value, { key, tenantId: row.tenant as string }, cipher);
        progress.examined++;
        if (next === undefined) continue;
        await query(
          c.json
            ? `UPDATE ${c.table} SET ${c.column} = $2::jsonb WHERE ${c.key}::text = $1 AND ${c.column} = $3::jsonb`
            : `UPDATE ${c.table} SET ${c.column} = $2 WHERE ${c.key}::text = $1 AND ${c.column} = $3`,
          [key, next, c.json ? JSON.stringify(row.value) : row.value],
        );
        progress.resealed++;
      }
      after = rows[rows.length - 1]!.key as string;
      options.onBatch?.(progress);
    }
    done.push(progress);
  }
  return done;
}

/**
 * Money in code is a bigint of nano-dollars (1e-9 USD), the precision of the numeric(20, 9)
 * columns, so sums and comparisons are exact. Amounts cross the API as decimal strings.
 */
export type Nanos = bigint;

const SCALE = 9;
const ONE_USD = 10n ** BigInt(SCALE);
const DECIMAL = /^(\d+)(?:\.(\d{1,9}))?$/;

/** "0.15" → 150000000n. Throws on anything but a non-negative decimal with ≤ 9 decimals. */
export function parseUsd(text: string): Nanos {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new RangeError(`not a dollar amount: ${text}`);
  return BigInt(m[1]!) * ONE_USD + BigInt((m[2] ?? '').padEnd(SCALE, '0'));
}

/** 150000000n → "0.150000000": nine decimals, as PostgreSQL renders numeric(20, 9). */
export function formatUsd(nanos: Nanos): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  return `${sign}${abs / ONE_USD}.${(abs % ONE_USD).toString().padStart(SCALE, '0')}`;
}

/** Cost of `units` at a price per million units, rounded up to the nano-dollar. */
export function perMillion(units: number, pricePerMillion: Nanos): Nanos {
  const n = BigInt(Math.max(0, Math.ceil(units))) * pricePerMillion;
  return (n + 999_999n) / 1_000_000n;
}

export const maxOf = (values: Nanos[]): Nanos => values.reduce((a, b) => (b > a ? b : a), 0n);
export const minOf = (values: Nanos[]): Nanos | undefined =>
  values.length ? values.reduce((a, b) => (b < a ? b : a)) : undefined;

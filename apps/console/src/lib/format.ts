const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});
const usdShort = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 3,
});
const count = new Intl.NumberFormat('en-US');
const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** A decimal-string dollar amount from the API, for display only (never computed with). */
export const formatUsd = (amount: string): string => usd.format(Number(amount));
/** Three significant digits, for chart axes of small amounts ($0.00005, $0.0001, $12.5). */
export const formatUsdShort = (amount: number): string => usdShort.format(amount);
export const formatCount = (n: number): string => count.format(n);
export const formatDateTime = (iso: string | null | undefined): string =>
  iso ? dateTime.format(new Date(iso)) : '—';

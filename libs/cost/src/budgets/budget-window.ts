import { DateTime, IANAZone } from 'luxon';

export type BudgetPeriod = 'day' | 'month';

export interface BudgetWindow {
  /** Named by its start in the budget's time zone: `day:2026-11-23`, `month:2026-11`. */
  id: string;
  resetsAt: Date;
}

/**
 * The window of a period that contains `now`, in a time zone (UTC unless the tenant chose
 * one). Windows are identified, never reset: a new day is simply a new counter.
 */
export function budgetWindow(period: BudgetPeriod, now: Date, timeZone = 'UTC'): BudgetWindow {
  const local = DateTime.fromJSDate(now, { zone: timeZone });
  const start = local.startOf(period);
  return {
    id: `${period}:${start.toFormat(period === 'day' ? 'yyyy-MM-dd' : 'yyyy-MM')}`,
    resetsAt: start.plus(period === 'day' ? { days: 1 } : { months: 1 }).toJSDate(),
  };
}

export function isTimeZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

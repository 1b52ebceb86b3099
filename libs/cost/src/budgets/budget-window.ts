import { DateTime, IANAZone } from 'luxon';

export type BudgetPeriod = 'day' | 'month';

export interface BudgetWindow {
  /** Named by its start in the budget's time zone: `day:2026-11-23`, `month:2026-11`. */
  id: string;
  resetsAt: Date;
}

/**
 * A window a time-zone change kept open (see carryWindows): its id and when it now ends.
 * Stored per tenant in cost_settings.carried_windows.
 */
export interface CarriedWindow {
  id: string;
  endsAt: string;
}

export type CarriedWindows = Partial<Record<BudgetPeriod, CarriedWindow>>;

const HOUR_MS = 3_600_000;
/**
 * The shortest window of the new zone that may follow a carried one. When less than this is
 * left of the new zone's window at the moment the carried one ends, the carried one runs on to
 * the end of it instead, so repeated zone changes cannot buy extra short windows. Shorter than
 * any natural window, even one shortened by daylight saving (23 hours; 28 days less an hour).
 */
const MIN_WINDOW_AFTER_CHANGE_MS: Record<BudgetPeriod, number> = {
  day: 20 * HOUR_MS,
  month: 27 * 24 * HOUR_MS,
};

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

/**
 * The window in force for a tenant's budgets: the one a time-zone change kept open while it
 * lasts, else the window of the tenant's zone that contains `now`.
 */
export function tenantWindow(
  period: BudgetPeriod,
  now: Date,
  timeZone: string,
  carried: CarriedWindows = {},
): BudgetWindow {
  const kept = carried[period];
  if (kept && now.getTime() < Date.parse(kept.endsAt))
    return { id: kept.id, resetsAt: new Date(kept.endsAt) };
  return budgetWindow(period, now, timeZone);
}

/**
 * What a change of a tenant's time zone at `at` keeps open: for each period, the window in
 * force at that moment (in the old zone, or one an earlier change kept open) runs to its end,
 * so its spend still counts; the new zone's windows follow it. Windows are named by their
 * local date, so a zone change could otherwise land on a date not yet spent (a fresh window
 * for a tenant that just spent its day) — that is what this prevents, however many times the
 * zone changes. A new-zone window with too little left when the kept one ends is absorbed into
 * it (MIN_WINDOW_AFTER_CHANGE_MS). A new-zone window named like an old one shares its counter,
 * which can only count more spend, never less.
 */
export function carryWindows(
  at: Date,
  fromZone: string,
  toZone: string,
  carried: CarriedWindows = {},
): CarriedWindows {
  const result: CarriedWindows = {};
  for (const period of ['day', 'month'] as const) {
    const open = tenantWindow(period, at, fromZone, carried);
    const end = open.resetsAt.getTime();
    const following = budgetWindow(period, open.resetsAt, toZone).resetsAt.getTime();
    const endsAt = following - end < MIN_WINDOW_AFTER_CHANGE_MS[period] ? following : end;
    result[period] = { id: open.id, endsAt: new Date(endsAt).toISOString() };
  }
  return result;
}

export function isTimeZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

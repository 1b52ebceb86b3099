import { budgetWindow, isTimeZone } from './budget-window';

describe('budgetWindow', () => {
  const at = (iso: string) => new Date(iso);

  it('names a UTC day by its date and ends it at the next midnight', () => {
    const w = budgetWindow('day', at('2026-11-23T23:59:59.999Z'));
    expect(w.id).toBe('day:2026-11-23');
    expect(w.resetsAt.toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(budgetWindow('day', at('2026-11-24T00:00:00.000Z')).id).toBe('day:2026-11-24');
  });

  it('names a month by year and month and ends it on the first of the next', () => {
    const w = budgetWindow('month', at('2026-12-31T12:00:00Z'));
    expect(w.id).toBe('month:2026-12');
    expect(w.resetsAt.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('follows a tenant time zone, including its daylight-saving changes', () => {
    // 03:00 UTC on 23 November is still 22 November in New York (UTC-5).
    const w = budgetWindow('day', at('2026-11-23T03:00:00Z'), 'America/New_York');
    expect(w.id).toBe('day:2026-11-22');
    expect(w.resetsAt.toISOString()).toBe('2026-11-23T05:00:00.000Z');
    // The day clocks go forward in Berlin (29 March 2026) is 23 hours long.
    const spring = budgetWindow('day', at('2026-03-29T10:00:00Z'), 'Europe/Berlin');
    expect(spring.id).toBe('day:2026-03-29');
    expect(spring.resetsAt.toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });

  it('knows IANA zone names from anything else', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

import {
  budgetWindow,
  type CarriedWindows,
  carryWindows,
  isTimeZone,
  tenantWindow,
} from './budget-window';

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

describe('time-zone changes', () => {
  const at = (iso: string) => new Date(iso);
  const ZONES = [
    'UTC',
    'Pacific/Kiritimati',
    'Etc/GMT+12',
    'Asia/Tokyo',
    'America/Los_Angeles',
    'Europe/Berlin',
    'Pacific/Pago_Pago',
    'Asia/Kolkata',
  ];

  it('keeps the window open in the old zone until it ends, however far east the new zone is', () => {
    // Noon UTC on 10 June is already 02:00 on 11 June in Kiritimati (UTC+14): its own window
    // would be a fresh day. The UTC day runs to its end instead, and since the Kiritimati day
    // then in progress has only 10 hours left, on to the end of that one.
    const now = at('2031-06-10T12:00:00Z');
    const carried = carryWindows(now, 'UTC', 'Pacific/Kiritimati');
    expect(carried.day).toEqual({ id: 'day:2031-06-10', endsAt: '2031-06-11T10:00:00.000Z' });
    expect(carried.month).toEqual({ id: 'month:2031-06', endsAt: '2031-07-01T00:00:00.000Z' });
    const during = tenantWindow('day', at('2031-06-11T09:59:59Z'), 'Pacific/Kiritimati', carried);
    expect(during).toEqual({ id: 'day:2031-06-10', resetsAt: at('2031-06-11T10:00:00Z') });
    // Then the new zone's windows: the next Kiritimati day.
    expect(tenantWindow('day', at('2031-06-11T10:00:00Z'), 'Pacific/Kiritimati', carried).id).toBe(
      'day:2031-06-12',
    );
  });

  it('lets the new zone take over at the old window’s end when enough of its window is left', () => {
    const carried = carryWindows(at('2031-05-21T00:00:01Z'), 'UTC', 'Europe/Berlin');
    expect(carried.day).toEqual({ id: 'day:2031-05-21', endsAt: '2031-05-22T00:00:00.000Z' });
    const next = tenantWindow('day', at('2031-05-22T00:00:00Z'), 'Europe/Berlin', carried);
    expect(next).toEqual({ id: 'day:2031-05-22', resetsAt: at('2031-05-22T22:00:00Z') });
  });

  it('never opens another window before the spent one ends, whatever the sequence of zones', () => {
    const spentDay = budgetWindow('day', at('2031-06-10T00:30:00Z'), 'UTC');
    for (let seed = 0; seed < 200; seed++) {
      let zone = 'UTC';
      let carried: CarriedWindows = {};
      let t = Date.parse('2031-06-10T00:30:00Z');
      let rnd = seed * 7919 + 17;
      const next = () => (rnd = (rnd * 48271) % 2147483647);
      while (t < spentDay.resetsAt.getTime()) {
        const to = ZONES[next() % ZONES.length]!;
        if (to !== zone) {
          carried = carryWindows(new Date(t), zone, to, carried);
          zone = to;
        }
        expect(tenantWindow('day', new Date(t), zone, carried).id).toBe(spentDay.id);
        t += (next() % 180) * 60_000 + 60_000;
      }
    }
  });
});

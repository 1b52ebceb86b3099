import { OutageLog } from './outage-log';

describe('OutageLog', () => {
  let now = 0;
  let lines: string[];
  let log: OutageLog;
  beforeEach(() => {
    now = 1_000_000;
    lines = [];
    log = new OutageLog(
      { log: (m) => lines.push(`log ${m}`), warn: (m) => lines.push(`warn ${m}`) },
      60_000,
      () => now,
    );
  });

  it('warns once when failures start and summarises them at most once per interval', () => {
    for (let i = 0; i < 100; i++) {
      log.failed('ECONNREFUSED', (r) => `Redis unreachable (${r})`);
      now += 500;
    }
    expect(lines).toEqual(['warn Redis unreachable (ECONNREFUSED)']);
    for (let i = 0; i < 30; i++) {
      log.failed('ECONNREFUSED', (r) => `Redis unreachable (${r})`);
      now += 500;
    }
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      'warn Redis unreachable (ECONNREFUSED) (still failing after 60.0 s; 120 more failures since the last warning)',
    );
    expect(log.down).toBe(true);
  });

  it('logs the recovery once, with the outage length, and nothing when nothing was down', () => {
    log.recovered('back');
    expect(lines).toEqual([]);
    log.failed('timeout');
    now += 12_300;
    log.failed('timeout');
    log.recovered('Redis is back');
    log.recovered('Redis is back');
    expect(lines).toEqual(['warn timeout', 'log Redis is back after 12.3 s']);
    expect(log.down).toBe(false);
  });

  it('treats a failure after a quiet interval as a new outage, warned at once', () => {
    log.failed('reset');
    now += 1000;
    log.failed('reset');
    now += 120_000;
    log.failed('refused');
    expect(lines).toEqual(['warn reset', 'warn refused']);
  });
});

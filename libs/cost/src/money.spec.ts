import { formatUsd, minOf, maxOf, parseUsd, perMillion } from './money';

describe('money', () => {
  it('parses decimal dollars to nano-dollars exactly', () => {
    expect(parseUsd('0.15')).toBe(150_000_000n);
    expect(parseUsd('100')).toBe(100_000_000_000n);
    expect(parseUsd('0.000000001')).toBe(1n);
    expect(parseUsd('12345678901.123456789')).toBe(12_345_678_901_123_456_789n);
  });

  it('refuses what is not a non-negative decimal of at most nine places', () => {
    for (const bad of ['', '-1', '1e3', '0.1234567891', 'abc', '1.'])
      expect(() => parseUsd(bad)).toThrow(RangeError);
  });

  it('formats with nine decimals, as numeric(20, 9) renders', () => {
    expect(formatUsd(150_000_000n)).toBe('0.150000000');
    expect(formatUsd(0n)).toBe('0.000000000');
    expect(formatUsd(-5n)).toBe('-0.000000005');
    expect(formatUsd(parseUsd('42.5'))).toBe('42.500000000');
  });

  it('prices per million units, rounding a fraction of a nano-dollar up', () => {
    // 1,000 tokens at $0.15 per million = $0.00015
    expect(formatUsd(perMillion(1000, parseUsd('0.15')))).toBe('0.000150000');
    // 1 token at $0.000001 per million is 1e-12 USD: charged as one nano-dollar, never zero
    expect(perMillion(1, parseUsd('0.000001'))).toBe(1n);
    expect(perMillion(0, parseUsd('10'))).toBe(0n);
  });

  it('sums without the drift of floating point', () => {
    const tenCents = parseUsd('0.1');
    const sum = Array.from({ length: 10 }, () => tenCents).reduce((a, b) => a + b);
    expect(formatUsd(sum)).toBe('1.000000000');
    expect(maxOf([1n, 3n, 2n])).toBe(3n);
    expect(minOf([4n, 2n, 9n])).toBe(2n);
    expect(minOf([])).toBeUndefined();
  });
});

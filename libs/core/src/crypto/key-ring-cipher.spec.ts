import type { AppConfig } from '@parley/core';
import { randomBytes } from 'node:crypto';
import { KeyRingCipher } from './key-ring-cipher';

const key = () => randomBytes(32).toString('base64');
const cipherWith = (keys: { kid: string; key: string }[]) =>
  new KeyRingCipher({ security: { messageEncryptionKeys: keys } } as unknown as AppConfig);

describe('KeyRingCipher', () => {
  const k1 = { kid: 'k1', key: key() };
  const k2 = { kid: 'k2', key: key() };

  it('round-trips text, with a new IV each time', () => {
    const cipher = cipherWith([k1]);
    const a = cipher.seal('Ünïcødé ✓ secret claim 4711');
    const b = cipher.seal('Ünïcødé ✓ secret claim 4711');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^enc:v1:k1:/);
    expect(a).not.toContain('4711');
    expect(cipher.open(a)).toBe('Ünïcødé ✓ secret claim 4711');
  });

  it('reads old messages after a rotation, and writes with the new key', () => {
    const old = cipherWith([k1]).seal('before rotation');
    const rotated = cipherWith([k2, k1]);
    expect(rotated.open(old)).toBe('before rotation');
    expect(rotated.seal('after')).toMatch(/^enc:v1:k2:/);
  });

  it('refuses tampered ciphertext and unknown keys', () => {
    const sealed = cipherWith([k1]).seal('integrity');
    const parts = sealed.split(':');
    parts[5] = Buffer.from('tampered').toString('base64url');
    expect(() => cipherWith([k1]).open(parts.join(':'))).toThrow();
    expect(() => cipherWith([k2]).open(sealed)).toThrow(/key this server does not have/);
  });

  it('leaves content as it is without keys', () => {
    expect(cipherWith([]).seal('plain')).toBe('plain');
    expect(cipherWith([]).open('plain')).toBe('plain');
  });
});

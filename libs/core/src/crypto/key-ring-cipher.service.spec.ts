import type { AppConfig } from '@parley/core';
import { createCipheriv, randomBytes } from 'node:crypto';
import { KeyRingCipher } from './key-ring-cipher.service';

const key = () => randomBytes(32).toString('base64');
const cipherWith = (keys: { kid: string; key: string }[]) =>
  new KeyRingCipher({ security: { messageEncryptionKeys: keys } } as unknown as AppConfig);
const row = { tenantId: 'tenant-a', id: 'row-1' };

/** A value as the first format wrote it: no bound row. */
function sealV1(k: { kid: string; key: string }, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(k.key, 'base64'), iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return `enc:v1:${k.kid}:${[iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join(':')}`;
}

describe('KeyRingCipher', () => {
  const k1 = { kid: 'k1', key: key() };
  const k2 = { kid: 'k2', key: key() };

  it('round-trips text, with a new IV each time', () => {
    const cipher = cipherWith([k1]);
    const a = cipher.seal('Ünïcødé ✓ secret claim 4711', row);
    const b = cipher.seal('Ünïcødé ✓ secret claim 4711', row);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^enc:v2:k1:/);
    expect(a).not.toContain('4711');
    expect(cipher.open(a, row)).toBe('Ünïcødé ✓ secret claim 4711');
  });

  it('binds a value to its tenant and row: a copy elsewhere does not open', () => {
    const cipher = cipherWith([k1]);
    const sealed = cipher.seal('claim 4711', row);
    expect(() => cipher.open(sealed, { ...row, id: 'row-2' })).toThrow(/integrity/);
    expect(() => cipher.open(sealed, { ...row, tenantId: 'tenant-b' })).toThrow(/integrity/);
  });

  it('reads old values after a rotation, and writes with the new key', () => {
    const old = cipherWith([k1]).seal('before rotation', row);
    const rotated = cipherWith([k2, k1]);
    expect(rotated.open(old, row)).toBe('before rotation');
    expect(rotated.seal('after', row)).toMatch(/^enc:v2:k2:/);
    expect(rotated.isCurrent(old)).toBe(false);
    expect(rotated.isCurrent(rotated.seal('after', row))).toBe(true);
  });

  it('still opens the first format, which bound no row, until it is rotated', () => {
    const v1 = sealV1(k1, 'written before');
    expect(cipherWith([k1]).open(v1, row)).toBe('written before');
    expect(cipherWith([k1]).isCurrent(v1)).toBe(false);
  });

  it('refuses tampered ciphertext, a shortened tag and unknown keys', () => {
    const sealed = cipherWith([k1]).seal('integrity', row);
    const parts = sealed.split(':');
    const tampered = [...parts];
    tampered[5] = Buffer.from('tampered').toString('base64url');
    expect(() => cipherWith([k1]).open(tampered.join(':'), row)).toThrow(/integrity/);
    // GCM would verify a 4-byte prefix of the tag unless told the length: 2^32 tries to forge.
    const short = [...parts];
    short[4] = Buffer.from(parts[4]!, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => cipherWith([k1]).open(short.join(':'), row)).toThrow(/integrity/);
    expect(() => cipherWith([k2]).open(sealed, row)).toThrow(/key this server does not have/);
  });

  it('refuses clear text once keys are set, and leaves it as it is without keys', () => {
    expect(() => cipherWith([k1]).open('planted in clear', row)).toThrow(/keys:rotate/);
    expect(cipherWith([]).seal('plain', row)).toBe('plain');
    expect(cipherWith([]).open('plain', row)).toBe('plain');
  });
});

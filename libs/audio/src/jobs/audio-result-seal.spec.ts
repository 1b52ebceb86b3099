import { type AppConfig, KeyRingCipher } from '@parley/core';
import { randomBytes } from 'node:crypto';
import { openResult, sealResult } from './audio-result-seal';

const cipher = new KeyRingCipher({
  security: { messageEncryptionKeys: [{ kid: 'k1', key: randomBytes(32).toString('base64') }] },
} as unknown as AppConfig);
const job = { id: 'job-1', tenant_id: 'tenant-a' };

describe('audio job results at rest', () => {
  const result = {
    transcript: { text: 'my card number is 4111', language: 'en', durationMs: 900 },
    reply: { messageId: 'm1', content: 'I cannot read card numbers.', costUsd: '0.01' },
    audio: { format: 'mp3', bytes: 1200 },
  };

  it('seals the transcript and the reply, and keeps the rest readable', () => {
    const sealed = sealResult(cipher, job, result);
    const stored = JSON.stringify(sealed);
    expect(stored).not.toMatch(/4111|card numbers/);
    expect(sealed.audio).toEqual(result.audio);
    expect((sealed.transcript as { language: string }).language).toBe('en');
    expect(openResult(cipher, job, sealed)).toEqual(result);
  });

  it('seals a transcription job’s text, bound to the job and the field', () => {
    const sealed = sealResult(cipher, job, { text: 'hello there', durationMs: 500 });
    expect(openResult(cipher, job, sealed)).toEqual({ text: 'hello there', durationMs: 500 });
    expect(() => openResult(cipher, { ...job, id: 'job-2' }, sealed)).toThrow(/integrity/);
    // The transcript moved into the reply's place does not open either.
    const moved = { reply: { content: sealed.text } };
    expect(() => openResult(cipher, job, moved)).toThrow(/integrity/);
  });
});

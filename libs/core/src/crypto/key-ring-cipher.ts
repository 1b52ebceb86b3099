import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

/**
 * Data at rest (message content, tool secrets): AES-256-GCM with a fresh 96-bit IV per message, stored as
 * `enc:v1:<kid>:<iv>:<tag>:<ciphertext>` (base64url). The first configured key encrypts; every
 * configured key decrypts, so keys rotate without rewriting old messages. Without keys (the
 * MESSAGE_ENCRYPTION_KEYS ring), text is stored as it is, and already encrypted text cannot be
 * read; callers whose data must never be stored in clear check `canEncrypt`.
 */
@Injectable()
export class KeyRingCipher {
  private readonly keys: Map<string, Buffer>;
  private readonly current?: { kid: string; key: Buffer };

  constructor(config: AppConfig) {
    const ring = config.security.messageEncryptionKeys;
    this.keys = new Map(ring.map((k) => [k.kid, Buffer.from(k.key, 'base64')]));
    if (ring[0]) this.current = { kid: ring[0].kid, key: Buffer.from(ring[0].key, 'base64') };
  }

  /** Whether a key is configured, so `seal` really encrypts. */
  get canEncrypt(): boolean {
    return this.current !== undefined;
  }

  seal(text: string): string {
    if (!this.current) return text;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'));
    return `${PREFIX}${this.current.kid}:${parts.join(':')}`;
  }

  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    const [kid, iv, tag, body] = stored.slice(PREFIX.length).split(':');
    const key = kid ? this.keys.get(kid) : undefined;
    if (!key || !iv || !tag || body === undefined) {
      throw new AppError(
        'MESSAGE_KEY_UNAVAILABLE',
        500,
        'Stored data is encrypted with a key this server does not have (MESSAGE_ENCRYPTION_KEYS).',
        {
          logLevel: 'error',
        },
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const V1 = 'enc:v1:';
const V2 = 'enc:v2:';
const TAG_BYTES = 16;

/**
 * The row a sealed text belongs to. It is bound to the ciphertext as additional authenticated
 * data, so a value copied into another row or another tenant no longer opens.
 */
export interface SealContext {
  tenantId: string;
  /** The row's id (or, for a value that is not a row, its key). */
  id: string;
}

/**
 * Data at rest (message content, agent steps, approval arguments, transcripts, tool secrets):
 * AES-256-GCM with a fresh 96-bit IV per value and the full 16-byte tag, stored as
 * `enc:v2:<kid>:<iv>:<tag>:<ciphertext>` (base64url) with tenant and row id as additional
 * authenticated data. The first configured key encrypts; every configured key decrypts, so keys
 * rotate without rewriting old rows (`npm run keys:rotate` re-encrypts them under the newest).
 * `enc:v1:` values (no bound row, written before) still open until rotated.
 * Without keys (the MESSAGE_ENCRYPTION_KEYS ring) text is stored as it is; with keys, a stored
 * value without the prefix is refused rather than trusted, since an attacker who can write rows
 * could otherwise plant clear text.
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

  /** The kid new values are sealed with, if any. */
  get currentKid(): string | undefined {
    return this.current?.kid;
  }

  seal(text: string, context: SealContext): string {
    if (!this.current) return text;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(aad(context));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'));
    return `${V2}${this.current.kid}:${parts.join(':')}`;
  }

  open(stored: string, context: SealContext): string {
    const v2 = stored.startsWith(V2);
    if (!v2 && !stored.startsWith(V1)) {
      if (this.canEncrypt) throw plaintextAtRest();
      return stored;
    }
    const [kid, iv, tag, body] = stored.slice(V2.length).split(':');
    const key = kid ? this.keys.get(kid) : undefined;
    if (!key || !iv || !tag || body === undefined) throw keyUnavailable();
    const tagBytes = Buffer.from(tag, 'base64url');
    // GCM accepts shorter tags unless told otherwise; a truncated tag is a forgery aid.
    if (tagBytes.length !== TAG_BYTES) throw tampered();
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(tagBytes);
    if (v2) decipher.setAAD(aad(context));
    try {
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw tampered();
    }
  }

  /**
   * For `npm run keys:rotate`: the value sealed under the current key in the current format,
   * whatever it was (clear text from before keys were set, `enc:v1:`, an older key), or
   * undefined when it already is.
   */
  reseal(stored: string, context: SealContext): string | undefined {
    if (!this.current)
      throw new Error('MESSAGE_ENCRYPTION_KEYS is not set: there is no key to rotate to.');
    if (this.isCurrent(stored)) return undefined;
    const clear =
      stored.startsWith(V1) || stored.startsWith(V2) ? this.open(stored, context) : stored;
    return this.seal(clear, context);
  }

  /** Whether a stored value is sealed under the current key in the current format. */
  isCurrent(stored: string): boolean {
    return this.current !== undefined && stored.startsWith(`${V2}${this.current.kid}:`);
  }
}

const aad = ({ tenantId, id }: SealContext) => Buffer.from(`${tenantId}\u0000${id}`, 'utf8');

function keyUnavailable(): AppError {
  return new AppError(
    'MESSAGE_KEY_UNAVAILABLE',
    500,
    'Stored data is encrypted with a key this server does not have (MESSAGE_ENCRYPTION_KEYS).',
    { logLevel: 'error' },
  );
}

function tampered(): AppError {
  return new AppError(
    'STORED_DATA_TAMPERED',
    500,
    'Stored data failed its integrity check: it was altered or moved from another row.',
    { logLevel: 'error' },
  );
}

function plaintextAtRest(): AppError {
  return new AppError(
    'PLAINTEXT_AT_REST',
    500,
    'Stored data is not encrypted although MESSAGE_ENCRYPTION_KEYS is set; run `npm run keys:rotate` to encrypt what was stored before.',
    { logLevel: 'error' },
  );
}

import { Injectable } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { KeyRingCipher } from '@parley/core';
import {
  IdempotencyConflictError,
  IdempotencyKeyReusedError,
  InvalidIdempotencyKeyError,
} from '../conversation.errors';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

const TTL_HOURS = 24;
const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

export type IdempotencyClaim<T> = { kind: 'new' } | { kind: 'replay'; response: T };

/**
 * Idempotency-Key handling: the first request with a key claims it; a repeat with the same
 * body gets the stored result (the model is not called again); a repeat with another body is
 * refused; a repeat while the first still runs gets 409. Keys live 24 hours, per caller.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: KeyRingCipher,
  ) {}

  async claim<T>(
    principal: Principal,
    key: string,
    route: string,
    body: unknown,
  ): Promise<IdempotencyClaim<T>> {
    if (!VALID_KEY.test(key)) {
      throw new InvalidIdempotencyKeyError();
    }
    const who = owner(principal);
    const hash = createHash('sha256')
      .update(`${route}\n${JSON.stringify(body)}`)
      .digest('base64url');
    // A new key is claimed; an expired one is claimed anew; a live one is left as it is.
    const claimed: unknown[] = await this.dataSource.query(
      `INSERT INTO idempotency_keys (tenant_id, principal, key, route, request_hash, status, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'in_progress', now() + make_interval(hours => $6))
       ON CONFLICT (tenant_id, principal, key) DO UPDATE
         SET route = EXCLUDED.route, request_hash = EXCLUDED.request_hash, status = 'in_progress',
             response = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at < now()
       RETURNING key`,
      [principal.tenantId, who, key, route, hash, TTL_HOURS],
    );
    if (claimed.length > 0) return { kind: 'new' };
    const rows: { request_hash: string; status: string; response: string }[] =
      await this.dataSource.query(
        `SELECT request_hash, status, response FROM idempotency_keys WHERE tenant_id = $1 AND principal = $2 AND key = $3`,
        [principal.tenantId, who, key],
      );
    const row = rows[0]!;
    if (row.request_hash !== hash) throw new IdempotencyKeyReusedError();
    if (row.status !== 'completed') throw new IdempotencyConflictError();
    // Stored like message content: it holds the answer, so it is encrypted when that is on.
    const context = { tenantId: principal.tenantId, id: `${who}:${key}` };
    return { kind: 'replay', response: JSON.parse(this.cipher.open(row.response, context)) as T };
  }

  async complete(principal: Principal, key: string, response: unknown): Promise<void> {
    await this.dataSource.query(
      `UPDATE idempotency_keys SET status = 'completed', response = $4
        WHERE tenant_id = $1 AND principal = $2 AND key = $3`,
      [
        principal.tenantId,
        owner(principal),
        key,
        JSON.stringify(
          this.cipher.seal(JSON.stringify(response), {
            tenantId: principal.tenantId,
            id: `${owner(principal)}:${key}`,
          }),
        ),
      ],
    );
  }

  /** The request failed: forget the key so the client may retry with it. */
  async release(principal: Principal, key: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND principal = $2 AND key = $3 AND status = 'in_progress'`,
      [principal.tenantId, owner(principal), key],
    );
  }

  /**
   * Passes a response's events through: stores the result under the key once `resultOf` gives
   * one (the final event), or frees the key when the events fail, so a retry may run.
   */
  async *remembered<E>(
    principal: Principal,
    key: string,
    events: AsyncIterable<E>,
    resultOf: (event: E) => unknown,
  ): AsyncGenerator<E> {
    try {
      for await (const event of events) {
        const result = resultOf(event);
        if (result !== undefined) await this.complete(principal, key, result);
        yield event;
      }
    } catch (error) {
      await this.release(principal, key);
      throw error;
    }
  }
}

const owner = (p: Principal): string => (p.apiKeyId ? `key:${p.apiKeyId}` : `user:${p.userId}`);

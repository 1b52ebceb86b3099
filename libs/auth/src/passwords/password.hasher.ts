import { Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { AppConfig } from '@parley/core';
import { normalizePassword } from './password.policy';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** Reads `m`, `t` and `p` from a PHC string `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`. */
export function parseArgon2Params(phc: string): (Argon2Params & { algorithm: string }) | null {
  const m = /^\$(argon2(?:id|i|d))\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (!m) return null;
  return {
    algorithm: m[1]!,
    memoryCost: Number(m[2]),
    timeCost: Number(m[3]),
    parallelism: Number(m[4]),
  };
}

/** argon2id with parameters from config; a hash made with weaker ones is redone at login. */
@Injectable()
export class PasswordHasher {
  private readonly params: Argon2Params;
  /** A real hash to verify against when the account does not exist, so timing matches. */
  private dummyHash?: Promise<string>;

  constructor(config: AppConfig) {
    const { memoryKiB, iterations, parallelism } = config.security.passwords;
    this.params = { memoryCost: memoryKiB, timeCost: iterations, parallelism };
  }

  hash(password: string): Promise<string> {
    return hash(normalizePassword(password), { algorithm: Algorithm.Argon2id, ...this.params });
  }

  async verify(phc: string | undefined, password: string): Promise<boolean> {
    if (!phc) {
      this.dummyHash ??= this.hash('parley-timing-equaliser-password');
      await verify(await this.dummyHash, normalizePassword(password)).catch(() => false);
      return false;
    }
    return verify(phc, normalizePassword(password)).catch(() => false);
  }

  needsRehash(phc: string): boolean {
    const current = parseArgon2Params(phc);
    return (
      !current ||
      current.algorithm !== 'argon2id' ||
      current.memoryCost < this.params.memoryCost ||
      current.timeCost < this.params.timeCost ||
      current.parallelism < this.params.parallelism
    );
  }
}

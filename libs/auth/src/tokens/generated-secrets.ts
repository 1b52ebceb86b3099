import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * A secret made once and kept in system_settings, for installations that did not configure
 * one (a laptop, a demo). Every instance on the same database reads the same value; the first
 * writer wins.
 */
export async function generatedSecret(dataSource: DataSource, key: string): Promise<string> {
  const candidate = randomBytes(48).toString('base64url');
  await dataSource.query(
    `INSERT INTO system_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
    [key, JSON.stringify({ secret: candidate })],
  );
  const rows: { value: { secret: string } }[] = await dataSource.query(
    `SELECT value FROM system_settings WHERE key = $1`,
    [key],
  );
  return rows[0]!.value.secret;
}

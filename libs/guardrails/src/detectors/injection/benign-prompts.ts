import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Ordinary requests (writing, translating, role-play for a harmless purpose), English and
 * German, written for this project as extra negatives for training: in the public injection
 * set, "write a poem about…" mostly appears inside attacks.
 */
export function benignPrompts(): string[] {
  return readFileSync(join(__dirname, 'benign-prompts.txt'), 'utf8').split('\n').filter(Boolean);
}

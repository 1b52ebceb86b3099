import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

let common: Set<string> | undefined;

/** The ~49,000 most common passwords that zxcvbn-ts ships, compared case-insensitively. */
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common;
}

/** NFKC, so that look-alike compositions of the same text hash the same. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * NIST SP 800-63B style: a length range in code points, no composition rules, no truncation,
 * and nothing from the list of common passwords. Returns why it is refused, or null.
 */
export function passwordProblem(password: string, context: { email?: string } = {}): string | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) {
    return `The password must be at least ${PASSWORD_MIN_LENGTH} characters long (it has ${length}).`;
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return `The password must be at most ${PASSWORD_MAX_LENGTH} characters long (it has ${length}).`;
  }
  const lower = normalized.toLowerCase();
  if (commonPasswords().has(lower)) {
    return 'This password is on the list of commonly used passwords that attackers try first; choose another.';
  }
  if (context.email && lower === context.email.toLowerCase()) {
    return 'The password must not be the email address.';
  }
  return null;
}

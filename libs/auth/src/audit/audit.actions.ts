/** Every action the audit log records. Later libs add theirs here (budget, policy, guardrail). */
export const AUDIT_ACTIONS = [
  'auth.login.succeeded',
  'auth.login.failed',
  'auth.login.locked',
  'auth.refresh.reused',
  'auth.logout',
  'auth.password.changed',
  'apikey.created',
  'apikey.revoked',
  'apikey.rotated',
  'user.created',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'tenant.created',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

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
  'budget.updated',
  'budget.threshold_crossed',
  'budget.exhausted',
  'budget.fail_open',
  'pricing.updated',
  'cost.settings_updated',
  'guardrail.blocked',
  'guardrail.policy_updated',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

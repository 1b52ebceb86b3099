import type { Role, Scope } from './auth.constants';

/**
 * Who is calling: a user (through an access token) or an API key. Services read it from the
 * request context (CurrentPrincipal), never from parameters passed by hand.
 */
export interface Principal {
  kind: 'user' | 'apiKey';
  tenantId: string;
  userId?: string;
  apiKeyId?: string;
  /** A user's role; an API key acts with its creator's tenant and its own scopes. */
  role?: Role;
  scopes: Scope[];
  superadmin: boolean;
}

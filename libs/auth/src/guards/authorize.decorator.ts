import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { API_KEY_AUTH, BEARER_AUTH } from '@parley/core';
import type { Role, Scope } from '../auth.constants';

export const AUTH_POLICY = 'parley:authPolicy';

/**
 * Who may call a route. Users need at least `role` (admin ⊇ member), or `superadmin`.
 * API keys are let in only when `scope` is given and the key has it (`'*'`: any valid key).
 */
export interface AuthPolicy {
  role: Role;
  scope?: Scope | '*';
  superadmin?: boolean;
}

export const Authorize = (policy: AuthPolicy): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(AUTH_POLICY, policy),
    ApiBearerAuth(BEARER_AUTH),
    ...(policy.scope ? [ApiSecurity(API_KEY_AUTH)] : []),
    ApiUnauthorizedResponse({
      description:
        'No or invalid credentials (`UNAUTHENTICATED`, `INVALID_TOKEN`, `INVALID_API_KEY`).',
    }),
    ApiForbiddenResponse({ description: 'Authenticated, but not allowed (`FORBIDDEN`).' }),
  );

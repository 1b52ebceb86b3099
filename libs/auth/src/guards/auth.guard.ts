import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC, RequestContext, withSpan } from '@parley/core';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthenticatedError } from '../auth.errors';
import type { Principal } from '../principal';
import { AUTH_POLICY, type AuthPolicy } from './authorize.decorator';
import { readCredential } from './credentials';
import { CurrentPrincipal } from './current-principal.service';
import { PrincipalResolver } from './principal.resolver';

/**
 * The one global guard. Deny by default: a route needs `@Public()` or an `@Authorize()`
 * policy, and a caller who satisfies it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: PrincipalResolver,
    private readonly current: CurrentPrincipal,
    private readonly context: RequestContext,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    this.context.setMeta({
      requestId: String(request.id),
      ip: request.ip,
      userAgent: request.headers['user-agent'],
    });
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const policy = this.reflector.getAllAndOverride<AuthPolicy>(AUTH_POLICY, targets);
    if (!policy)
      throw new ForbiddenError('This route has no access policy, so nobody may call it.');
    const credential = readCredential(request.headers);
    if (!credential) throw new UnauthenticatedError();
    return withSpan('parley.auth', {}, async (span) => {
      const principal = await this.resolver.resolve(credential);
      // Ids, never names or emails: traces are for operators.
      span.setAttributes({
        'parley.principal.kind': principal.kind,
        'parley.tenant.id': principal.tenantId,
      });
      this.current.set(principal);
      assertAllowed(principal, policy);
      return true;
    });
  }
}

export function assertAllowed(principal: Principal, policy: AuthPolicy): void {
  if (principal.kind === 'apiKey') {
    if (policy.superadmin || !policy.scope) {
      throw new ForbiddenError('API keys cannot call this route; use a user access token.');
    }
    if (policy.scope !== '*' && !principal.scopes.includes(policy.scope)) {
      throw new ForbiddenError(
        `This API key lacks the "${policy.scope}" scope (or its creator's role no longer allows it).`,
      );
    }
    return;
  }
  if (policy.superadmin && !principal.superadmin)
    throw new ForbiddenError('Only a superadmin may do this.');
  if (policy.role === 'admin' && principal.role !== 'admin')
    throw new ForbiddenError('Only a tenant admin may do this.');
}

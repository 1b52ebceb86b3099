import { Injectable } from '@nestjs/common';
import { RequestContext } from '@parley/core';
import { UnauthenticatedError } from '../auth.errors';
import type { Principal } from '../principal';

const PRINCIPAL = 'parley:principal';

/** The caller of the current request, as the auth guard established it. */
@Injectable()
export class CurrentPrincipal {
  constructor(private readonly context: RequestContext) {}

  get(): Principal {
    const principal = this.maybe();
    if (!principal) throw new UnauthenticatedError();
    return principal;
  }

  maybe(): Principal | undefined {
    return this.context.get<Principal>(PRINCIPAL);
  }

  set(principal: Principal): void {
    this.context.set(PRINCIPAL, principal);
  }
}

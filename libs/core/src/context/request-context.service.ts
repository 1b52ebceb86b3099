import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';

/** What a request carries besides its body, for services and the audit log. */
export interface RequestMeta {
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

const META = 'parley:meta';

/**
 * The per-request context (AsyncLocalStorage through nestjs-cls): request metadata, and
 * whatever libs put there under their own keys (auth puts the principal). Outside a request
 * (a job, boot) it is empty rather than failing.
 */
@Injectable()
export class RequestContext {
  constructor(private readonly cls: ClsService) {}

  get<T>(key: string): T | undefined {
    return this.cls.isActive() ? (this.cls.get(key) as T | undefined) : undefined;
  }

  set<T>(key: string, value: T): void {
    if (this.cls.isActive()) this.cls.set(key, value);
  }

  meta(): RequestMeta {
    return this.get<RequestMeta>(META) ?? {};
  }

  setMeta(meta: RequestMeta): void {
    this.set(META, meta);
  }
}

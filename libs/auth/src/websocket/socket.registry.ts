import { Injectable } from '@nestjs/common';
import type { Principal } from '../principal';

type Send = (event: string, data: Record<string, unknown>) => void;

/** The key a principal's sockets are filed under: one user, or one API key, of one tenant. */
export const ownerKey = (p: Pick<Principal, 'tenantId' | 'userId' | 'apiKeyId'>): string =>
  p.apiKeyId ? `${p.tenantId}:key:${p.apiKeyId}` : `${p.tenantId}:user:${p.userId}`;

/**
 * The open WebSockets of this process by owner, so a lib can push an event to one user's
 * sockets (an audio job finishing) without knowing the gateway. Each instance knows only its
 * own sockets; cross-instance delivery comes from every instance hearing the same event.
 */
@Injectable()
export class SocketRegistry {
  private readonly sockets = new Map<string, Set<Send>>();
  private firstListeners: (() => void)[] | undefined = [];

  /**
   * Runs `listener` when the first socket of this process is filed (at once if one already
   * was): a lib that pushes events starts listening for them only once someone can hear them.
   */
  onFirstSocket(listener: () => void): void {
    if (this.firstListeners) this.firstListeners.push(listener);
    else listener();
  }

  add(owner: string, send: Send): () => void {
    const listeners = this.firstListeners;
    if (listeners) {
      this.firstListeners = undefined;
      for (const listener of listeners) listener();
    }
    let set = this.sockets.get(owner);
    if (!set) this.sockets.set(owner, (set = new Set()));
    set.add(send);
    return () => {
      set.delete(send);
      if (set.size === 0) this.sockets.delete(owner);
    };
  }

  /** Sends to every socket of the owner here; returns how many got it. */
  push(owner: string, event: string, data: Record<string, unknown>): number {
    const set = this.sockets.get(owner);
    for (const send of set ?? []) send(event, data);
    return set?.size ?? 0;
  }
}

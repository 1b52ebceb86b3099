import { Injectable } from '@nestjs/common';

/** Throws (or rejects) when the dependency cannot serve; the message says why. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<void>;

/**
 * Where platform libs register the dependencies that `/health/ready` checks (database, queue
 * backend, Redis). Core knows none of them; they announce themselves.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly probes = new Map<string, ReadinessProbe>();

  register(name: string, probe: ReadinessProbe): void {
    this.probes.set(name, probe);
  }

  entries(): [string, ReadinessProbe][] {
    return [...this.probes.entries()];
  }
}

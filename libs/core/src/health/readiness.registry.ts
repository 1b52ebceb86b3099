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
  private readonly infos = new Map<string, () => Promise<unknown>>();

  register(name: string, probe: ReadinessProbe): void {
    this.probes.set(name, probe);
  }

  entries(): [string, ReadinessProbe][] {
    return [...this.probes.entries()];
  }

  /** What a lib reports beside readiness (installed speech engines): shown, never failing. */
  registerDetails(name: string, read: () => Promise<unknown>): void {
    this.infos.set(name, read);
  }

  async details(): Promise<Record<string, unknown>> {
    const entries = await Promise.all(
      [...this.infos.entries()].map(async ([name, read]) => {
        try {
          return [name, await read()] as const;
        } catch (error) {
          return [name, { error: (error as Error).message }] as const;
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}

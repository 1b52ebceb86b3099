import { Injectable } from '@nestjs/common';
import type { DetectorName, Direction } from './detectors/finding';
import type { Decision } from './policy/evaluate';

/** Counters for the observability issue to export: decisions, blocks by detector, check time. */
@Injectable()
export class GuardrailMetrics {
  readonly decisions = new Map<string, number>();
  readonly blocks = new Map<string, number>();
  moderationFailures = 0;
  /** Total and count of local input check time, in milliseconds. */
  inputCheckMs = { total: 0, count: 0 };

  recordCheck(direction: Direction, decision: Decision, ms: number): void {
    const key = `${direction}:${decision}`;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
    if (direction === 'input') {
      this.inputCheckMs.total += ms;
      this.inputCheckMs.count++;
    }
  }

  recordBlock(direction: Direction, detector: DetectorName): void {
    const key = `${direction}:${detector}`;
    this.blocks.set(key, (this.blocks.get(key) ?? 0) + 1);
  }

  recordModerationFailure(): void {
    this.moderationFailures++;
  }
}

import { Injectable } from '@nestjs/common';
import { Metrics } from '@parley/core';
import type { DetectorName, Direction } from './detectors/finding';
import type { Decision } from './policy/evaluate';

/**
 * Guardrail decisions, blocks by detector and check time; kept here (for tests) and exported to
 * Prometheus as parley_guardrail_decisions_total and parley_guardrail_blocks_total.
 */
@Injectable()
export class GuardrailMetrics {
  readonly decisions = new Map<string, number>();
  readonly blocks = new Map<string, number>();
  moderationFailures = 0;
  /** Total and count of local input check time, in milliseconds. */
  inputCheckMs = { total: 0, count: 0 };
  private readonly exported;

  constructor(metrics: Metrics) {
    this.exported = {
      decisions: metrics.counter({
        name: 'parley_guardrail_decisions_total',
        help: 'Guardrail checks by direction and decision (allow, redact, flag, block).',
        labelNames: ['direction', 'decision'],
      }),
      blocks: metrics.counter({
        name: 'parley_guardrail_blocks_total',
        help: 'Blocked messages by direction and the detector that blocked them.',
        labelNames: ['direction', 'detector'],
      }),
      moderationFailures: metrics.counter({
        name: 'parley_guardrail_moderation_failures_total',
        help: 'Moderation calls that failed (the policy decides what that means).',
      }),
    };
  }

  recordCheck(direction: Direction, decision: Decision, ms: number): void {
    const key = `${direction}:${decision}`;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
    this.exported.decisions.inc({ direction, decision });
    if (direction === 'input') {
      this.inputCheckMs.total += ms;
      this.inputCheckMs.count++;
    }
  }

  recordBlock(direction: Direction, detector: DetectorName): void {
    const key = `${direction}:${detector}`;
    this.blocks.set(key, (this.blocks.get(key) ?? 0) + 1);
    this.exported.blocks.inc({ direction, detector });
  }

  recordModerationFailure(): void {
    this.moderationFailures++;
    this.exported.moderationFailures.inc();
  }
}

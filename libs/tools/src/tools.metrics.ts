import { Injectable } from '@nestjs/common';
import { Metrics } from '@parley/core';

/**
 * Tool calls by tool and outcome, and their time; kept here (for tests) and exported to
 * Prometheus as parley_tool_calls_total and parley_tool_call_duration_seconds.
 */
@Injectable()
export class ToolMetrics {
  /** `<tool>:<ok|error>:<code>` → calls. */
  readonly calls = new Map<string, number>();
  /** Total and count of tool call time, in milliseconds, by tool. */
  readonly durationMs = new Map<string, { total: number; count: number }>();
  private readonly exported;

  constructor(metrics: Metrics) {
    this.exported = {
      calls: metrics.counter({
        name: 'parley_tool_calls_total',
        help: 'Agent tool calls by tool, status and code.',
        labelNames: ['tool', 'status', 'code'],
      }),
      duration: metrics.histogram({
        name: 'parley_tool_call_duration_seconds',
        help: 'Agent tool call duration by tool.',
        labelNames: ['tool'],
      }),
    };
  }

  record(tool: string, status: 'ok' | 'error', code: string | undefined, ms: number): void {
    const key = `${tool}:${status}:${code ?? 'OK'}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const d = this.durationMs.get(tool) ?? { total: 0, count: 0 };
    d.total += ms;
    d.count++;
    this.durationMs.set(tool, d);
    this.exported.calls.inc({ tool, status, code: code ?? 'OK' });
    this.exported.duration.observe({ tool }, ms / 1000);
  }
}

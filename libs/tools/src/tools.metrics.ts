import { Injectable } from '@nestjs/common';

/** Counters for the observability issue to export: tool calls by tool and outcome, and time. */
@Injectable()
export class ToolMetrics {
  /** `<tool>:<ok|error>:<code>` → calls. */
  readonly calls = new Map<string, number>();
  /** Total and count of tool call time, in milliseconds, by tool. */
  readonly durationMs = new Map<string, { total: number; count: number }>();

  record(tool: string, status: 'ok' | 'error', code: string | undefined, ms: number): void {
    const key = `${tool}:${status}:${code ?? 'OK'}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const d = this.durationMs.get(tool) ?? { total: 0, count: 0 };
    d.total += ms;
    d.count++;
    this.durationMs.set(tool, d);
  }
}

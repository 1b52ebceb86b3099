/** Options, faults and records of the fake LLM, and the queues that script its next answers. */

export interface FakeLlmOptions {
  /** default model reply text when a request has no scripted reply */
  reply?: string;
  /** delay before the first token (streaming) or before the JSON response */
  ttftMs?: number;
  /** delay between streamed content chunks */
  tokenDelayMs?: number;
  /**
   * Fixed usage to report for chat completions instead of the word counts (null = the word
   * counts again); `cached` adds prompt_tokens_details.cached_tokens. `omit: true` reports
   * no usage at all, as some OpenAI-compatible servers do.
   */
  usage?: { prompt: number; completion: number; cached?: number } | { omit: true } | null;
}

export type ResolvedOptions = Required<FakeLlmOptions>;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  reply: 'Hello from the fake model.',
  ttftMs: 0,
  tokenDelayMs: 0,
  usage: null,
};

/** A tool call the fake model makes; `arguments` is JSON text (an object is stringified). */
export interface ScriptedToolCall {
  name: string;
  arguments: string | Record<string, unknown>;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: unknown }
  | { kind: 'hang' }
  | { kind: 'drop-mid-stream'; afterChunks: number }
  /** sends `afterChunks` content chunks, then nothing more, keeping the connection open */
  | { kind: 'stall-mid-stream'; afterChunks: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  receivedAt: number;
  /** set when the client closed the connection before the response finished */
  clientAborted: boolean;
  finishedAt?: number;
}

/** Merges options, skipping undefined keys so `configure({ ttftMs: undefined })` keeps the old value. */
export function mergeOptions(
  base: ResolvedOptions,
  patch: Partial<FakeLlmOptions>,
): ResolvedOptions {
  const merged = { ...base };
  if (patch.reply !== undefined) merged.reply = patch.reply;
  if (patch.ttftMs !== undefined) merged.ttftMs = nonNegative('ttftMs', patch.ttftMs);
  if (patch.usage !== undefined) merged.usage = patch.usage;
  if (patch.tokenDelayMs !== undefined) {
    merged.tokenDelayMs = nonNegative('tokenDelayMs', patch.tokenDelayMs);
  }
  return merged;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`FakeLlm: ${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

interface Scripted<T> {
  value: T;
  model?: string;
  remaining: number;
}

/**
 * A FIFO of scripted values, each usable `times` times, optionally only by one model. A request
 * takes the oldest entry that applies to its model, so model-scoped and global entries interleave
 * in the order the test queued them.
 */
export class ScriptQueue<T> {
  private entries: Scripted<T>[] = [];

  push(value: T, opts: { model?: string; times?: number } = {}): void {
    const times = opts.times ?? 1;
    if (!(times >= 1)) throw new RangeError(`FakeLlm: times must be >= 1, got ${times}`);
    this.entries.push({ value, model: opts.model, remaining: times });
  }

  take(model: string | undefined): T | undefined {
    const i = this.entries.findIndex((e) => e.model === undefined || e.model === model);
    if (i < 0) return undefined;
    const entry = this.entries[i];
    if (--entry.remaining <= 0) this.entries.splice(i, 1);
    return entry.value;
  }

  clear(): void {
    this.entries = [];
  }
}

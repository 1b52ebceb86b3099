import { Injectable, Logger } from '@nestjs/common';
import { ActingUsers, type Principal } from '@parley/auth';
import { AppConfig, AppError, Clock, GEN_AI, withSpan } from '@parley/core';
import type { CostSubject } from '@parley/cost';
import type { ToolCall, ToolDefinition } from '@parley/llm';
import { SearchService } from '@parley/rag';
import {
  BrokenCircuitError,
  circuitBreaker,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  handleWhen,
} from 'cockatiel';
import { DateTime } from 'luxon';
import { LRUCache } from 'lru-cache';
import { outboundRequest } from '../outbound/outbound-http';
import { BUILT_IN_TOOLS } from '../registry/built-in-tools';
import { checkArguments } from '../registry/tool-schema';
import { ToolsService } from '../registry/tools.service';

type Callable = NonNullable<Awaited<ReturnType<ToolsService['forCall']>>>;
import { ToolEnableForbiddenError, ToolNotFoundError } from '../tools.errors';
import { ToolMetrics } from '../tools.metrics';
import { buildHttpCall } from './http-tool';

/** What a tool call is made for: whose budgets, which knowledge bases, which tools are on. */
export interface ToolContext {
  subject: CostSubject;
  /** The tools the conversation enabled: a call to any other is refused, whatever the model says. */
  enabled: string[];
  knowledgeBaseIds: string[];
  /** High-risk calls a person approved (by call id); any other high-risk call is refused. */
  approved?: ReadonlySet<string>;
  signal?: AbortSignal;
}

/** The result fed back to the model: text either way, so the model can recover from errors. */
export interface ToolOutcome {
  status: 'ok' | 'error';
  output: string;
  attempts: number;
  durationMs: number;
  /** A stable code when the call failed (TOOL_NOT_ENABLED, TOOL_INVALID_ARGUMENTS, …). */
  code?: string;
}

const MAX_ATTEMPTS_IDEMPOTENT = 3;
const BREAKER_FAILURES = 5;
const BREAKER_HALF_OPEN_MS = 30_000;

class ToolFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * Runs the tool calls a model proposes. Nothing the model says is trusted: the tool must be
 * enabled for the conversation, its arguments must pass the tool's JSON Schema, HTTP calls go
 * only where the tenant's allowlist and the address policy let them. Failures come back as
 * error results the model can read (never as exceptions), retried only for tools marked
 * idempotent, and a tool that keeps failing trips its own circuit breaker for a while.
 */
@Injectable()
export class ToolRunner {
  private readonly logger = new Logger('Tools');
  private readonly breakers = new LRUCache<string, CircuitBreakerPolicy>({ max: 5000 });

  constructor(
    private readonly tools: ToolsService,
    private readonly search: SearchService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: ToolMetrics,
    private readonly actingUsers: ActingUsers,
  ) {}

  /**
   * Refuses (403 TOOL_ENABLE_FORBIDDEN) when the caller's role may not enable one of `names` on
   * a conversation: each tool's `enableRoles`. An API key acts with its creator's current role.
   * Built-ins may be enabled by anyone; names that are no tool are left to definitions().
   */
  async assertMayEnable(principal: Principal, names: string[]): Promise<void> {
    const own = names.filter((n) => !BUILT_IN_TOOLS[n]);
    if (own.length === 0) return;
    const tools = await this.tools.byNames(principal.tenantId, own);
    const role =
      principal.kind === 'user'
        ? principal.role
        : (await this.actingUsers.resolve(principal))?.role;
    const refused = own
      .flatMap((n) => tools.get(n) ?? [])
      .filter((t) => !role || !t.enableRoles.includes(role))
      .map((t) => ({ name: t.name, enableRoles: t.enableRoles }));
    if (refused.length > 0) throw new ToolEnableForbiddenError(refused, role, principal.kind);
  }

  /**
   * The definitions to send the model for `names`: built-ins and the tenant's enabled tools.
   * A name that is neither is a 400 naming it.
   */
  async definitions(
    tenantId: string,
    names: string[],
    options: { skipMissing?: boolean } = {},
  ): Promise<ToolDefinition[]> {
    const out: ToolDefinition[] = [];
    const own = await this.tools.byNames(
      tenantId,
      names.filter((n) => !BUILT_IN_TOOLS[n]),
    );
    for (const name of names) {
      const builtIn = BUILT_IN_TOOLS[name];
      if (builtIn) {
        out.push(builtIn);
        continue;
      }
      const tool = own.get(name);
      if ((!tool || !tool.enabled) && options.skipMissing) continue;
      if (!tool || !tool.enabled) throw new ToolNotFoundError(name, Object.keys(BUILT_IN_TOOLS));
      out.push({ name: tool.name, description: tool.description, parameters: tool.parameters });
    }
    return out;
  }

  /**
   * The calls a person must approve before they run: enabled high-risk tools whose arguments
   * pass the schema (a call that would be refused anyway goes back to the model at once).
   */
  async needingApproval(context: ToolContext, calls: ToolCall[]): Promise<ToolCall[]> {
    const names = calls.map((c) => c.name).filter((n) => !BUILT_IN_TOOLS[n]);
    if (names.length === 0) return [];
    const own = await this.tools.byNames(context.subject.tenantId, [...new Set(names)]);
    return calls.filter((call) => {
      const tool = own.get(call.name);
      return (
        context.enabled.includes(call.name) &&
        tool?.enabled === true &&
        tool.risk === 'high' &&
        !context.approved?.has(call.id) &&
        checkArguments(tool.parameters as Record<string, unknown>, call.arguments).ok
      );
    });
  }

  /** The result of a call a person declined: the model is told, and does not get to retry. */
  rejected(call: ToolCall, reason: string | undefined): ToolOutcome {
    this.metrics.record(call.name, 'error', 'TOOL_CALL_REJECTED', 0);
    return {
      status: 'error',
      output: `A person declined this call${reason ? ` (${reason})` : ''}. Do not call it again for this request; answer without it.`,
      attempts: 0,
      durationMs: 0,
      code: 'TOOL_CALL_REJECTED',
    };
  }

  /** Runs one call, in an `execute_tool <name>` span (GenAI conventions) with its outcome. */
  run(context: ToolContext, call: ToolCall): Promise<ToolOutcome> {
    // Span names stay a bounded set: a name the model made up is not one.
    const name = context.enabled.includes(call.name) ? call.name : 'unknown';
    return withSpan(
      `execute_tool ${name}`,
      {
        attributes: {
          [GEN_AI.operation]: 'execute_tool',
          [GEN_AI.toolName]: call.name,
          [GEN_AI.toolCallId]: call.id,
        },
      },
      async (span) => {
        const outcome = await this.execute(context, call);
        span.setAttributes({
          'parley.tool.status': outcome.status,
          'parley.tool.attempts': outcome.attempts,
          ...(outcome.code ? { 'error.type': outcome.code } : {}),
        });
        return outcome;
      },
    );
  }

  private async execute(context: ToolContext, call: ToolCall): Promise<ToolOutcome> {
    const started = this.clock.now().getTime();
    const done = (
      status: ToolOutcome['status'],
      output: string,
      attempts: number,
      code?: string,
    ): ToolOutcome => {
      const durationMs = this.clock.now().getTime() - started;
      // A name the model made up is no label value: labels must stay a bounded set.
      const known = code !== 'TOOL_NOT_ENABLED';
      this.metrics.record(known ? call.name : 'unknown', status, code, durationMs);
      return { status, output, attempts, durationMs, ...(code ? { code } : {}) };
    };
    if (!context.enabled.includes(call.name))
      return done(
        'error',
        `The tool "${call.name}" is not available in this conversation.`,
        0,
        'TOOL_NOT_ENABLED',
      );
    const builtIn = BUILT_IN_TOOLS[call.name];
    const callable = builtIn
      ? undefined
      : await this.tools.forCall(context.subject.tenantId, call.name);
    const tool = callable?.tool;
    if (!builtIn && (!tool || !tool.enabled))
      return done(
        'error',
        `The tool "${call.name}" does not exist any more.`,
        0,
        'TOOL_NOT_ENABLED',
      );
    const schema = (builtIn?.parameters ?? tool!.parameters) as Record<string, unknown>;
    const args = checkArguments(schema, call.arguments);
    if (!args.ok)
      return done(
        'error',
        `The arguments do not match the tool's schema: ${args.problems.join('; ')}. Call it again with corrected arguments.`,
        0,
        'TOOL_INVALID_ARGUMENTS',
      );
    if (tool?.risk === 'high' && !context.approved?.has(call.id))
      return done(
        'error',
        `The tool "${call.name}" needs a person's approval for each call, and this call has none; answer without it.`,
        0,
        'TOOL_APPROVAL_REQUIRED',
      );
    try {
      if (builtIn) return done('ok', await this.runBuiltIn(context, call.name, args.value), 1);
      const { output, attempts } = await this.runHttp(context, callable!, args.value);
      return done('ok', output, attempts);
    } catch (error) {
      const failure = error as ToolFailed & { attempts?: number };
      return done('error', failure.message, failure.attempts ?? 1, failure.code ?? 'TOOL_FAILED');
    }
  }

  private async runBuiltIn(
    context: ToolContext,
    name: string,
    args: Record<string, unknown>,
  ): Promise<string> {
    if (name === 'current_time') {
      const now = DateTime.fromJSDate(this.clock.now());
      const zone = args.timeZone as string | undefined;
      if (zone && !now.setZone(zone).isValid)
        throw new ToolFailed(
          'TOOL_INVALID_ARGUMENTS',
          `"${zone}" is not an IANA time zone.`,
          false,
        );
      return JSON.stringify({
        utc: now.toUTC().toISO(),
        ...(zone ? { local: now.setZone(zone).toISO(), timeZone: zone } : {}),
      });
    }
    // knowledge_base_search
    if (context.knowledgeBaseIds.length === 0)
      throw new ToolFailed(
        'TOOL_FAILED',
        'This conversation has no knowledge bases to search.',
        false,
      );
    const { passages } = await this.search.retrieve(
      context.subject,
      context.knowledgeBaseIds,
      args.query as string,
      (args.topK as number | undefined) ?? this.config.rag.topK,
    );
    return JSON.stringify({
      passages: passages.map((p, i) => ({
        n: i + 1,
        title: p.title,
        documentId: p.documentId,
        chunkId: p.chunkId,
        text: p.text,
      })),
    });
  }

  /** One HTTP tool call through its breaker, retried (with backoff) only when idempotent. */
  private async runHttp(
    context: ToolContext,
    { tool, secretHeaders: secrets, allowedHosts }: Callable,
    args: Record<string, unknown>,
  ): Promise<{ output: string; attempts: number }> {
    const breaker = this.breakerFor(context.subject.tenantId, tool.id);
    let request: ReturnType<typeof buildHttpCall>;
    try {
      request = buildHttpCall(tool.http, args);
    } catch (error) {
      // An argument that would move the URL's path: nothing was sent, and retrying cannot help.
      if (error instanceof AppError)
        throw Object.assign(new ToolFailed(error.code, error.message, false), { attempts: 0 });
      throw error;
    }
    const maxAttempts = tool.idempotent ? MAX_ATTEMPTS_IDEMPOTENT : 1;
    const policy = { allowedHosts, allowPrivateNetworks: this.config.tools.allowPrivateNetworks };
    for (let attempt = 1; ; attempt++) {
      try {
        const output = await breaker.execute(async () => {
          const response = await outboundRequest(
            {
              ...request,
              headers: { ...request.headers, ...secrets },
              timeoutMs: tool.timeoutMs,
              maxResponseBytes: tool.maxResponseBytes,
              signal: context.signal,
            },
            policy,
          );
          if (response.status >= 500 || response.status === 429)
            throw new ToolFailed(
              'TOOL_FAILED',
              `The tool's service answered HTTP ${response.status}.`,
              true,
            );
          if (response.status >= 400)
            throw new ToolFailed(
              'TOOL_FAILED',
              `The tool's service refused the call with HTTP ${response.status}: ${response.body.slice(0, 500)}`,
              false,
            );
          return response.body;
        });
        return { output, attempts: attempt };
      } catch (error) {
        const failure = this.describe(error, tool.name);
        if (!failure.retryable || attempt >= maxAttempts || context.signal?.aborted)
          throw Object.assign(failure, { attempts: attempt });
        await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
      }
    }
  }

  private describe(error: unknown, toolName: string): ToolFailed {
    if (error instanceof ToolFailed) return error;
    if (error instanceof BrokenCircuitError)
      return new ToolFailed(
        'TOOL_CIRCUIT_OPEN',
        `The tool "${toolName}" failed repeatedly and is paused for a while; answer without it or try later.`,
        false,
      );
    if (error instanceof AppError) {
      // Policy refusals are final; timeouts and failed connections may pass on a retry.
      const retryable = error.code === 'TOOL_TIMEOUT' || error.code === 'TOOL_REQUEST_FAILED';
      return new ToolFailed(error.code, error.message, retryable);
    }
    this.logger.warn(`tool ${toolName} failed: ${(error as Error).message}`);
    return new ToolFailed('TOOL_FAILED', `The tool "${toolName}" failed.`, true);
  }

  private breakerFor(tenantId: string, toolId: string): CircuitBreakerPolicy {
    const key = `${tenantId}:${toolId}`;
    let breaker = this.breakers.get(key);
    if (!breaker) {
      // Refusals by policy or by the service (4xx) say nothing about its health.
      breaker = circuitBreaker(handleWhen(countsAgainstHealth), {
        halfOpenAfter: BREAKER_HALF_OPEN_MS,
        breaker: new ConsecutiveBreaker(BREAKER_FAILURES),
      });
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}

const UNHEALTHY_CODES = new Set(['TOOL_TIMEOUT', 'TOOL_REQUEST_FAILED', 'TOOL_RESPONSE_TOO_LARGE']);

/** Timeouts, broken connections, 5xx and 429 count towards opening a tool's breaker. */
function countsAgainstHealth(error: unknown): boolean {
  if (error instanceof ToolFailed) return error.retryable;
  if (error instanceof AppError) return UNHEALTHY_CODES.has(error.code);
  return true;
}

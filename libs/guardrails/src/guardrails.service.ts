import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '@parley/auth';
import { AppConfig, ConfigError, readConfigFile, ValidationFailedError } from '@parley/core';
import { LlmGateway } from '@parley/llm';
import { DataSource } from 'typeorm';
import type { Direction, Finding } from './detectors/finding';
import { TOXICITY_CATEGORIES } from './detectors/toxicity.detector';
import { detectOffTopic } from './detectors/off-topic.detector';
import { offTopicBySimilarity, topicText } from './detectors/off-topic.embeddings';
import { normalize } from './normalize/normalize';
import {
  inspectInput,
  inspectOutput,
  type OutputContext,
  type Verdict,
  verdictOf,
} from './inspect';
import { GuardrailBlockedError } from './guardrails.errors';
import { GuardrailMetrics } from './guardrails.metrics';
import type { Evaluation } from './policy/evaluate';
import {
  type GuardrailPolicy,
  mergePolicy,
  overrideSchema,
  type PolicyOverride,
  policySchema,
} from './policy/guardrail-policy';
import { Redactor } from './redaction';

export type { OutputContext, Verdict } from './inspect';

const POLICY_TTL_MS = 5_000;

/**
 * The guardrails: runs the detectors on what goes into the model and what comes out, and
 * applies the tenant's policy (config/guardrails.yaml, overridden per tenant). Local checks
 * are synchronous and take well under a millisecond for ordinary messages; the remote
 * moderation check is a promise the pipeline waits for before releasing any token.
 */
@Injectable()
export class GuardrailsService implements OnModuleInit {
  private readonly logger = new Logger('Guardrails');
  private defaults!: GuardrailPolicy;
  private readonly cache = new Map<string, { policy: GuardrailPolicy; until: number }>();
  /** Embeddings of allowed-topic descriptions, computed once. */
  private readonly topicVectors = new Map<string, number[]>();

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly llm: LlmGateway,
    private readonly audit: AuditService,
    private readonly metrics: GuardrailMetrics,
  ) {}

  onModuleInit(): void {
    const base = readConfigFile(this.config.configDir, 'guardrails.yaml') ?? {};
    const overlay =
      readConfigFile(this.config.configDir, `guardrails.${this.config.app.env}.yaml`) ?? {};
    const parsed = policySchema.safeParse(mergePolicy(base, overlay));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(`guardrails.yaml: ${issue.path.join('.') || '(root)'}`, issue.message);
    }
    this.defaults = parsed.data;
  }

  get defaultPolicy(): GuardrailPolicy {
    return this.defaults;
  }

  /** The tenant's policy: the defaults with its override; cached for a few seconds. */
  async policyFor(tenantId: string): Promise<GuardrailPolicy> {
    const hit = this.cache.get(tenantId);
    if (hit && hit.until > Date.now()) return hit.policy;
    const override = await this.override(tenantId);
    const policy = override ? mergePolicy(this.defaults, override) : this.defaults;
    this.cache.set(tenantId, { policy, until: Date.now() + POLICY_TTL_MS });
    return policy;
  }

  async override(tenantId: string): Promise<PolicyOverride | undefined> {
    const rows: { policy: PolicyOverride }[] = await this.dataSource.query(
      'SELECT policy FROM guardrail_policies WHERE tenant_id = $1',
      [tenantId],
    );
    return rows[0]?.policy;
  }

  /** Replaces the tenant's override (validated, and valid once merged); `{}` restores the defaults. */
  async setOverride(tenantId: string, input: unknown): Promise<GuardrailPolicy> {
    const parsed = overrideSchema.safeParse(input);
    if (!parsed.success) throw toValidationError(parsed.error.issues);
    const merged = policySchema.safeParse(mergePolicy(this.defaults, parsed.data));
    if (!merged.success) throw toValidationError(merged.error.issues);
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO guardrail_policies (tenant_id, policy) VALUES ($1, $2)
         ON CONFLICT (tenant_id) DO UPDATE SET policy = EXCLUDED.policy, updated_at = now()`,
        [tenantId, JSON.stringify(parsed.data)],
      );
      await this.audit.record(
        'guardrail.policy_updated',
        { tenantId, targetType: 'tenant', targetId: tenantId },
        m,
      );
    });
    this.cache.delete(tenantId);
    return merged.data;
  }

  /** Local input checks: injection, PII, toxicity (lexicon), off-topic. */
  checkInput(text: string, policy: GuardrailPolicy): Verdict {
    const started = performance.now();
    // With embeddings, off-topic is a remote check (remoteChecks); keywords otherwise.
    const verdict = inspectInput(text, policy, { offTopicKeywords: !this.llm.canEmbed });
    this.metrics.recordCheck('input', verdict.decision, performance.now() - started);
    return verdict;
  }

  /** Output checks of a complete text, or of the next sentence of a streamed answer. */
  checkOutput(
    text: string,
    policy: GuardrailPolicy,
    context: OutputContext = { systemPrompt: '' },
    redactor = new Redactor(),
    answerSoFar = text,
  ): Verdict {
    const verdict = inspectOutput(text, policy, context, redactor, answerSoFar);
    this.metrics.recordCheck('output', verdict.decision, 0);
    return verdict;
  }

  /**
   * The input checks that call out (moderation, off-topic by embeddings): promises the pipeline
   * waits for before releasing any token. Empty when the policy needs none.
   */
  remoteChecks(text: string, policy: GuardrailPolicy): Promise<Verdict>[] {
    return [this.moderate(text, policy, 'input'), this.offTopic(text, policy)].filter(
      (p): p is Promise<Verdict> => p !== undefined,
    );
  }

  /**
   * Off-topic by embeddings: the message against each allowed topic's description. If the
   * embedding call fails, the keyword rules decide instead (reported as such).
   */
  private offTopic(text: string, policy: GuardrailPolicy): Promise<Verdict> | undefined {
    const rule = policy.input.off_topic;
    if (rule.action === 'off' || rule.topics.length === 0 || !this.llm.canEmbed) return undefined;
    const missing = [...new Set(rule.topics.map(topicText))].filter(
      (t) => !this.topicVectors.has(t),
    );
    return this.llm
      .embed([text, ...missing], AbortSignal.timeout(policy.moderation.timeoutMs))
      .then(
        ([message, ...fresh]) => {
          if (this.topicVectors.size > 1000) this.topicVectors.clear();
          missing.forEach((t, i) => this.topicVectors.set(t, fresh[i]!));
          const topics = rule.topics.map((t) => this.topicVectors.get(topicText(t))!);
          const findings = offTopicBySimilarity(message!, topics, rule.minSimilarity ?? 0.3);
          return verdictOf(policy, 'input', text, findings, new Redactor());
        },
        (error: Error) => {
          this.logger.warn(`off-topic embeddings failed (${error.message}); using keyword rules`);
          const findings = detectOffTopic(normalize(text).text, rule.topics).map((f) => ({
            ...f,
            type: 'keywords_fallback',
          }));
          return verdictOf(policy, 'input', text, findings, new Redactor());
        },
      );
  }

  /**
   * The remote moderation check, when the policy enables it: resolves to the findings it adds,
   * or, when the endpoint fails or is slow, to a block (fail closed) or an `unchecked` flag
   * (fail open), as the policy says.
   */
  private moderate(
    text: string,
    policy: GuardrailPolicy,
    direction: Direction,
  ): Promise<Verdict> | undefined {
    const { moderation } = policy;
    if (!moderation.enabled || policy[direction].toxicity.action === 'off') return undefined;
    const signal = AbortSignal.timeout(moderation.timeoutMs);
    return this.llm.moderate(text, signal).then(
      (scores) => {
        const findings: Finding[] = [];
        for (const [name, score] of Object.entries(scores)) {
          const category = TOXICITY_CATEGORIES.find((c) => name === c || name.startsWith(`${c}/`));
          if (category && score > 0) findings.push({ detector: 'toxicity', type: category, score });
        }
        return verdictOf(policy, direction, text, findings, new Redactor());
      },
      (error: Error) => {
        this.metrics.recordModerationFailure();
        this.logger.warn(
          `moderation check failed (${error.message}); failing ${moderation.onError}`,
        );
        const finding = { detector: 'toxicity' as const, type: 'unchecked', score: 1 };
        return {
          decision: moderation.onError === 'closed' ? 'block' : 'flag',
          findings: [{ ...finding, action: moderation.onError === 'closed' ? 'block' : 'flag' }],
          text,
        } satisfies Verdict;
      },
    );
  }

  /** Counts and audits a block, and returns the error to throw (which names no offending text). */
  blocked(tenantId: string, direction: Direction, verdict: Evaluation): GuardrailBlockedError {
    const first = verdict.findings.find((f) => f.action === 'block')!;
    this.metrics.recordBlock(direction, first.detector);
    void this.audit
      .record('guardrail.blocked', {
        tenantId,
        targetType: 'message',
        metadata: {
          direction,
          detector: first.detector,
          category: first.type,
          score: first.score,
        },
      })
      .catch((e: Error) => this.logger.error(`could not audit a guardrail block: ${e.message}`));
    return new GuardrailBlockedError(direction, first.detector, first.type);
  }
}

function toValidationError(
  issues: { path: PropertyKey[]; message: string }[],
): ValidationFailedError {
  return new ValidationFailedError(
    issues.map((i) => ({ field: i.path.map(String).join('.') || '(root)', messages: [i.message] })),
  );
}

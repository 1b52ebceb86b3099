import { Injectable } from '@nestjs/common';
import {
  AuditService,
  InteractiveSessionRequiredError,
  type Principal,
  type Role,
  ROLES,
} from '@parley/auth';
import {
  decodeCursor,
  KeyRingCipher,
  NotFoundError,
  type Page,
  toPage,
  ValidationFailedError,
  type SealContext,
} from '@parley/core';
import { ToolNameTakenError } from '../tools.errors';
import { newId } from '@parley/database';
import { DataSource } from 'typeorm';
import { checkHostAllowed } from '../outbound/outbound-policy';
import { BUILT_IN_TOOL_NAMES } from './built-in-tools';
import { compileArgumentSchema, URL_PLACEHOLDER } from './tool-schema';
import { templatePathProblem } from './url-template';

export type ToolRisk = 'low' | 'high';
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * The risk of a tool whose definition does not say: a GET reads, anything else may change
 * something, so it waits for a person's approval on every call.
 */
export const defaultRisk = (method: HttpMethod): ToolRisk => (method === 'GET' ? 'low' : 'high');

/** Who may enable a tool on a conversation when its definition does not say: admins. */
export const DEFAULT_ENABLE_ROLES: readonly Role[] = ['admin'];

/** The roles that may enable a tool, in ROLES order; admins always may. */
export const normaliseEnableRoles = (roles: readonly Role[] | undefined): Role[] =>
  ROLES.filter((r) => r === 'admin' || (roles ?? DEFAULT_ENABLE_ROLES).includes(r));

export interface HttpToolSettings {
  method: HttpMethod;
  /** `https://api.example.com/claims/{claimId}`: placeholders name arguments, never the host. */
  url: string;
  headers: Record<string, string>;
}

export interface ToolView {
  id: string;
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  kind: 'http';
  http: HttpToolSettings & { secretHeaderNames: string[] };
  risk: ToolRisk;
  /** Safe to retry after a failure (a read, or a write with its own idempotency). */
  idempotent: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
  enabled: boolean;
  /** The roles that may enable the tool on a conversation (API keys: their creator's role). */
  enableRoles: Role[];
  createdAt: string;
  updatedAt: string;
}

/** An updated tool, and whether the update dropped its secret headers (its URL's origin moved). */
export type UpdatedToolView = ToolView & { secretHeadersCleared: boolean };

export interface ToolInput {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  http: { method: HttpMethod; url: string; headers?: Record<string, string> };
  /** Header values kept sealed at rest and never returned (API keys, bearer tokens). */
  secretHeaders?: Record<string, string>;
  /** Default: by method (defaultRisk). `low` on a method other than GET needs a person. */
  risk?: ToolRisk;
  idempotent?: boolean;
  timeoutMs?: number;
  maxResponseBytes?: number;
  enabled?: boolean;
  enableRoles?: Role[];
}

interface Row {
  id: string;
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  kind: 'http';
  http: HttpToolSettings;
  secret_headers: string | null;
  secret_header_names: string[];
  risk: ToolRisk;
  idempotent: boolean;
  timeout_ms: number;
  max_response_bytes: number;
  enabled: boolean;
  enable_roles: Role[];
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, name, description, parameters, kind, http, secret_headers, secret_header_names, risk, idempotent, timeout_ms, max_response_bytes, enabled, enable_roles, created_at, updated_at';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

const invalid = ValidationFailedError.field;

/**
 * The tools a tenant defines for its agents, and the hosts their calls may reach. A tool's
 * argument schema is compiled when it is saved (a broken schema is a 400 then, not a failure at
 * the first call); its URL may name arguments in its path and query, never in its host, and its
 * path has no dot segments; its secret headers are sealed with the server's key ring, never
 * returned, and dropped when its URL moves to another origin. A tool that is not a GET is high
 * risk unless a person (not an API key) says otherwise; `enableRoles` says who may put it on a
 * conversation.
 */
@Injectable()
export class ToolsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: KeyRingCipher,
    private readonly audit: AuditService,
  ) {}

  async create(
    tenantId: string,
    input: ToolInput,
    actor: Pick<Principal, 'kind'>,
  ): Promise<ToolView> {
    const allowedHosts = await this.allowedHosts(tenantId);
    this.check(input, allowedHosts);
    assertMayLowerRisk(actor, input.http.method, input.risk);
    const risk = input.risk ?? defaultRisk(input.http.method);
    const enableRoles = normaliseEnableRoles(input.enableRoles);
    const id = newId();
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO tools (id, tenant_id, name, description, parameters, kind, http, secret_headers,
         secret_header_names, risk, idempotent, timeout_ms, max_response_bytes, enabled, enable_roles)
       VALUES ($1, $2, $3, $4, $5, 'http', $6, $7, $13, $8, $9, $10, $11, $12, $14)
       ON CONFLICT (tenant_id, name) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        id,
        tenantId,
        input.name,
        input.description,
        JSON.stringify(input.parameters),
        JSON.stringify(httpOf(input.http)),
        this.sealSecrets({ tenantId, id }, input.secretHeaders),
        risk,
        input.idempotent ?? false,
        input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        input.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        input.enabled ?? true,
        Object.keys(input.secretHeaders ?? {}),
        enableRoles,
      ],
    );
    if (rows.length === 0) throw new ToolNameTakenError(input.name);
    await this.audit.record('tool.created', {
      tenantId,
      targetType: 'tool',
      targetId: rows[0]!.id,
      metadata: { name: input.name, risk, enableRoles },
    });
    return this.toView(rows[0]!);
  }

  async list(tenantId: string, query: { cursor?: string; limit: number }): Promise<Page<ToolView>> {
    const after = decodeCursor(query.cursor);
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM tools WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3`,
      [tenantId, after ?? null, query.limit + 1],
    );
    return toPage(rows, query.limit, (r) => this.toView(r));
  }

  async get(tenantId: string, id: string): Promise<ToolView> {
    return this.toView(await this.row(tenantId, id));
  }

  /**
   * A partial update; `secretHeaders` replaces all secret headers when given. A new method
   * without a `risk` never lowers the risk (GET → POST makes a low-risk tool high). A URL on
   * another origin (scheme, host, port) drops the stored secret headers unless the same update
   * sends new ones: they were meant for the old host (`secretHeadersCleared` says so).
   */
  async update(
    tenantId: string,
    id: string,
    patch: Partial<ToolInput>,
    actor: Pick<Principal, 'kind'>,
  ): Promise<UpdatedToolView> {
    const current = await this.row(tenantId, id);
    const http = patch.http ?? current.http;
    const merged: ToolInput = {
      name: patch.name ?? current.name,
      description: patch.description ?? current.description,
      parameters: patch.parameters ?? current.parameters,
      http,
      risk:
        patch.risk ??
        (http.method !== current.http.method && defaultRisk(http.method) === 'high'
          ? 'high'
          : current.risk),
      idempotent: patch.idempotent ?? current.idempotent,
      timeoutMs: patch.timeoutMs ?? current.timeout_ms,
      maxResponseBytes: patch.maxResponseBytes ?? current.max_response_bytes,
      enabled: patch.enabled ?? current.enabled,
      enableRoles: normaliseEnableRoles(patch.enableRoles ?? current.enable_roles),
    };
    this.check(merged, await this.allowedHosts(tenantId));
    assertMayLowerRisk(actor, http.method, patch.risk);
    const secretHeadersCleared =
      patch.secretHeaders === undefined &&
      current.secret_header_names.length > 0 &&
      originOf(http.url) !== originOf(current.http.url);
    const replaceSecrets = patch.secretHeaders !== undefined || secretHeadersCleared;
    try {
      const rows: Row[] = await this.dataSource.query(
        // In a CTE: a bare UPDATE … RETURNING comes back from TypeORM as [rows, count].
        `WITH changed AS (
           UPDATE tools SET name = $3, description = $4, parameters = $5, http = $6,
             secret_headers = CASE WHEN $7::boolean THEN $8 ELSE secret_headers END,
             secret_header_names = CASE WHEN $7::boolean THEN $14 ELSE secret_header_names END,
             risk = $9, idempotent = $10, timeout_ms = $11, max_response_bytes = $12, enabled = $13,
             enable_roles = $15, updated_at = now()
           WHERE id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}
         ) SELECT * FROM changed`,
        [
          id,
          tenantId,
          merged.name,
          merged.description,
          JSON.stringify(merged.parameters),
          JSON.stringify(httpOf(merged.http)),
          replaceSecrets,
          this.sealSecrets({ tenantId, id }, patch.secretHeaders),
          merged.risk,
          merged.idempotent,
          merged.timeoutMs,
          merged.maxResponseBytes,
          merged.enabled,
          Object.keys(patch.secretHeaders ?? {}),
          merged.enableRoles,
        ],
      );
      if (rows.length === 0) throw new NotFoundError('The tool');
      await this.audit.record('tool.updated', {
        tenantId,
        targetType: 'tool',
        targetId: id,
        metadata: {
          name: merged.name,
          changed: Object.keys(patch).sort(),
          risk: merged.risk,
          ...(secretHeadersCleared ? { secretHeadersCleared: true } : {}),
        },
      });
      return { ...this.toView(rows[0]!), secretHeadersCleared };
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ToolNameTakenError(merged.name);
      throw error;
    }
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const rows: { name: string }[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM tools WHERE id = $1 AND tenant_id = $2 RETURNING name) SELECT * FROM gone`,
      [id, tenantId],
    );
    if (rows.length === 0) throw new NotFoundError('The tool');
    await this.audit.record('tool.deleted', {
      tenantId,
      targetType: 'tool',
      targetId: id,
      metadata: { name: rows[0]!.name },
    });
  }

  /** A tenant's tools by their names (what the model calls them), in one read. */
  async byNames(tenantId: string, names: string[]): Promise<Map<string, ToolView>> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM tools WHERE tenant_id = $1 AND name = ANY($2::text[])`,
      [tenantId, names],
    );
    return new Map(rows.map((r) => [r.name, this.toView(r)]));
  }

  /**
   * What calling a tool needs, in one read: the tool, its secret headers unsealed (for the
   * executor only), and the tenant's allowed hosts.
   */
  async forCall(
    tenantId: string,
    name: string,
  ): Promise<
    { tool: ToolView; secretHeaders: Record<string, string>; allowedHosts: string[] } | undefined
  > {
    const rows: (Row & { allowed_hosts: string[] | null })[] = await this.dataSource.query(
      `SELECT ${COLUMNS.split(', ')
        .map((c) => `t.${c}`)
        .join(', ')}, s.allowed_hosts
         FROM tools t LEFT JOIN tool_settings s ON s.tenant_id = t.tenant_id
        WHERE t.tenant_id = $1 AND t.name = $2`,
      [tenantId, name],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      tool: this.toView(row),
      secretHeaders: row.secret_headers
        ? (JSON.parse(this.cipher.open(row.secret_headers, { tenantId, id: row.id })) as Record<
            string,
            string
          >)
        : {},
      allowedHosts: row.allowed_hosts ?? [],
    };
  }

  async allowedHosts(tenantId: string): Promise<string[]> {
    const rows: { allowed_hosts: string[] }[] = await this.dataSource.query(
      `SELECT allowed_hosts FROM tool_settings WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0]?.allowed_hosts ?? [];
  }

  async setAllowedHosts(tenantId: string, hosts: string[]): Promise<string[]> {
    const normalised = [...new Set(hosts.map((h) => h.trim().toLowerCase().replace(/\.$/, '')))];
    normalised.forEach((h, i) => {
      if (
        !/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(
          h,
        )
      )
        throw invalid(`allowedHosts.${i}`, `"${h}" is not a host name or *.domain pattern`);
    });
    await this.dataSource.query(
      `INSERT INTO tool_settings (tenant_id, allowed_hosts) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET allowed_hosts = excluded.allowed_hosts, updated_at = now()`,
      [tenantId, normalised],
    );
    await this.audit.record('tool.settings_updated', {
      tenantId,
      targetType: 'tool_settings',
      targetId: tenantId,
      metadata: { allowedHosts: normalised },
    });
    return normalised;
  }

  private async row(tenantId: string, id: string): Promise<Row> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM tools WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    if (rows.length === 0) throw new NotFoundError('The tool');
    return rows[0]!;
  }

  /** Everything about a definition that can be wrong, as a 400 naming the field. */
  private check(input: ToolInput, allowedHosts: string[]): void {
    if (BUILT_IN_TOOL_NAMES.includes(input.name))
      throw invalid('name', `"${input.name}" is a built-in tool; choose another name`);
    compileArgumentSchema(input.parameters);
    const properties = Object.keys(
      (input.parameters.properties as Record<string, unknown> | undefined) ?? {},
    );
    let url: URL;
    try {
      url = new URL(input.http.url.replace(URL_PLACEHOLDER, 'x'));
    } catch {
      throw invalid('http.url', 'http.url must be an absolute http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw invalid('http.url', 'http.url must start with https:// or http://');
    if (url.username || url.password)
      throw invalid('http.url', 'http.url must not carry credentials; use secretHeaders');
    const host = new URL(input.http.url.replace(URL_PLACEHOLDER, '0')).hostname;
    if (host !== url.hostname || input.http.url.split('/')[2]?.includes('{'))
      throw invalid('http.url', 'placeholders may stand in the path and query, never in the host');
    const pathProblem = templatePathProblem(input.http.url);
    if (pathProblem) throw invalid('http.url', pathProblem);
    for (const [, name] of input.http.url.matchAll(URL_PLACEHOLDER))
      if (!properties.includes(name!))
        throw invalid('http.url', `the placeholder {${name}} is not a property of parameters`);
    try {
      checkHostAllowed(url.hostname, allowedHosts);
    } catch {
      throw invalid(
        'http.url',
        `${url.hostname} is not on your tenant's allowed hosts (${allowedHosts.join(', ') || 'none yet'}); add it with PUT /v1/admin/tool-settings`,
      );
    }
    if (
      input.secretHeaders &&
      Object.keys(input.secretHeaders).length > 0 &&
      !this.cipher.canEncrypt
    )
      throw invalid(
        'secretHeaders',
        'secret headers are stored encrypted, and this server has no key: set MESSAGE_ENCRYPTION_KEYS first',
      );
  }

  /** Secret headers, sealed to their tool: a copy in another tool's row does not open. */
  private sealSecrets(
    tool: SealContext,
    secrets: Record<string, string> | undefined,
  ): string | null {
    if (!secrets || Object.keys(secrets).length === 0) return null;
    return this.cipher.seal(JSON.stringify(secrets), tool);
  }

  private toView(r: Row): ToolView {
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      parameters: r.parameters,
      kind: r.kind,
      http: { ...r.http, secretHeaderNames: r.secret_header_names },
      risk: r.risk,
      idempotent: r.idempotent,
      timeoutMs: r.timeout_ms,
      maxResponseBytes: r.max_response_bytes,
      enabled: r.enabled,
      enableRoles: r.enable_roles,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    };
  }
}

/**
 * Only a person may mark a tool that is not a GET as low risk (it then runs without approval):
 * an admin API key asking for that is refused, so a key cannot approve its own writes this way.
 */
function assertMayLowerRisk(
  actor: Pick<Principal, 'kind'>,
  method: HttpMethod,
  risk: ToolRisk | undefined,
): void {
  if (risk === 'low' && defaultRisk(method) === 'high' && actor.kind === 'apiKey')
    throw new InteractiveSessionRequiredError(
      `mark a tool whose method is ${method} as low risk (it would run without a person's approval)`,
    );
}

/** Scheme, host and port of a tool's URL: what its secret headers were entered for. */
const originOf = (url: string): string => new URL(url.replace(URL_PLACEHOLDER, 'x')).origin;

const httpOf = (http: ToolInput['http']): HttpToolSettings => ({
  method: http.method,
  url: http.url,
  headers: http.headers ?? {},
});

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { formatUsd, parseUsd } from '../money';

export type UsageGroup = 'day' | 'model' | 'user' | 'apiKey';

export interface UsageRow {
  key: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  audioSeconds: string;
  characters: number;
  costUsd: string;
}

export interface UsageReport {
  from: string;
  to: string;
  groupBy: UsageGroup;
  items: UsageRow[];
  totals: Omit<UsageRow, 'key'>;
}

export interface UsageFilter {
  tenantId: string;
  /** Only this user's, or this key's, calls (a member's own usage). */
  userId?: string;
  apiKeyId?: string;
  from: Date;
  to: Date;
  groupBy: UsageGroup;
  /** Days are counted in this zone (the tenant's). */
  timeZone: string;
}

/** The SQL that names a row's group; `$tz` is the time zone parameter. */
const GROUP_EXPRESSIONS: Record<UsageGroup, string> = {
  day: `to_char(created_at AT TIME ZONE $tz, 'YYYY-MM-DD')`,
  model: `coalesce(model, '')`,
  user: `coalesce(user_id::text, '')`,
  apiKey: `coalesce(api_key_id::text, '')`,
};

/** Sums of the usage ledger; totals add the same rows, so a report always adds up. */
@Injectable()
export class UsageReportService {
  constructor(private readonly dataSource: DataSource) {}

  async report(filter: UsageFilter): Promise<UsageReport> {
    const params: unknown[] = [filter.tenantId, filter.from, filter.to];
    let where = 'tenant_id = $1 AND created_at >= $2 AND created_at < $3';
    if (filter.userId) {
      params.push(filter.userId);
      where += ` AND user_id = $${params.length}`;
    }
    if (filter.apiKeyId) {
      params.push(filter.apiKeyId);
      where += ` AND api_key_id = $${params.length}`;
    }
    let group = GROUP_EXPRESSIONS[filter.groupBy];
    if (group.includes('$tz')) {
      params.push(filter.timeZone);
      group = group.replace('$tz', `$${params.length}`);
    }
    const rows: {
      key: string;
      requests: number;
      prompt: string;
      completion: string;
      cached: string;
      seconds: string;
      characters: string;
      cost: string;
    }[] = await this.dataSource.query(
      `SELECT ${group} AS key, count(*)::int AS requests,
              sum(prompt_tokens)::text AS prompt, sum(completion_tokens)::text AS completion,
              sum(cached_tokens)::text AS cached, sum(audio_seconds)::text AS seconds,
              sum(characters)::text AS characters, sum(cost_usd)::numeric(20, 9)::text AS cost
         FROM usage_ledger WHERE ${where}
        GROUP BY 1 ORDER BY 1`,
      params,
    );
    const items: UsageRow[] = rows.map((r) => ({
      key: r.key,
      requests: r.requests,
      promptTokens: Number(r.prompt),
      completionTokens: Number(r.completion),
      cachedTokens: Number(r.cached),
      audioSeconds: Number(r.seconds).toFixed(3),
      characters: Number(r.characters),
      costUsd: r.cost,
    }));
    return {
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      groupBy: filter.groupBy,
      items,
      totals: {
        requests: sum(items, (i) => i.requests),
        promptTokens: sum(items, (i) => i.promptTokens),
        completionTokens: sum(items, (i) => i.completionTokens),
        cachedTokens: sum(items, (i) => i.cachedTokens),
        audioSeconds: sum(items, (i) => Number(i.audioSeconds)).toFixed(3),
        characters: sum(items, (i) => i.characters),
        costUsd: formatUsd(items.reduce((a, i) => a + parseUsd(i.costUsd), 0n)),
      },
    };
  }
}

const sum = <T>(items: T[], of: (item: T) => number): number =>
  items.reduce((a, i) => a + of(i), 0);

/** The report as CSV: a header, one line per group, and a `total` line. */
export function toCsv(report: UsageReport): string {
  const header = [
    report.groupBy,
    'requests',
    'promptTokens',
    'completionTokens',
    'cachedTokens',
    'audioSeconds',
    'characters',
    'costUsd',
  ];
  const line = (key: string, r: Omit<UsageRow, 'key'>) =>
    [
      key,
      r.requests,
      r.promptTokens,
      r.completionTokens,
      r.cachedTokens,
      r.audioSeconds,
      r.characters,
      r.costUsd,
    ]
      .map((v) => csvField(String(v)))
      .join(',');
  return (
    [
      header.join(','),
      ...report.items.map((i) => line(i.key, i)),
      line('total', report.totals),
    ].join('\r\n') + '\r\n'
  );
}

/** Quotes a field when it must be, and defuses spreadsheet formulas (=, +, -, @ first). */
function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) && !/^-?\d/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

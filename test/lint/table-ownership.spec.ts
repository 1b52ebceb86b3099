import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * design.md: a lib reads and writes its own tables; for another lib's data it asks that lib's
 * service. Dependency-cruiser sees imports, not SQL, so this check reads the SQL: no lib's source
 * may name another lib's table after FROM, JOIN, INTO, UPDATE or TABLE.
 */
const OWNERS: Record<string, string[]> = {
  auth: ['tenants', 'users', 'api_keys', 'refresh_tokens', 'audit_logs', 'system_settings'],
  conversation: ['conversations', 'messages', 'agent_pauses', 'tool_approvals', 'idempotency_keys'],
  cost: [
    'budgets',
    'budget_counters',
    'cost_reservations',
    'cost_settings',
    'model_prices',
    'usage_ledger',
  ],
  rag: [
    'knowledge_bases',
    'kb_documents',
    'kb_chunks',
    'kb_postings',
    'kb_grants',
    'kb_settings',
    'embedding_cache',
  ],
  guardrails: ['guardrail_policies'],
  tools: ['tools', 'tool_settings'],
  audio: ['audio_jobs'],
  queue: ['job_outbox'],
};

const ROOT = join(__dirname, '..', '..');
const owner = new Map(
  Object.entries(OWNERS).flatMap(([lib, tables]) => tables.map((t) => [t, lib] as const)),
);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Every `FROM x`, `JOIN x`, `INTO x`, `UPDATE x`, `TABLE x` in a text (over line breaks too). */
const tablesNamedIn = (text: string): string[] =>
  [...text.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+"?([a-z_]+)\b/g)].map((m) => m[1]!);

describe('table ownership', () => {
  it('gives every table the migrations create an owning lib', () => {
    const created = readdirSync(join(ROOT, 'migrations'))
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [
        ...readFileSync(join(ROOT, 'migrations', f), 'utf8').matchAll(
          /CREATE TABLE (?:IF NOT EXISTS )?"?([a-z_]+)/g,
        ),
      ])
      .map((m) => m[1]!);
    expect(created.length).toBeGreaterThan(20);
    expect(created.filter((t) => !owner.has(t))).toEqual([]);
  });

  it('finds no lib naming another lib’s table in its SQL', () => {
    const crossings: string[] = [];
    for (const lib of readdirSync(join(ROOT, 'libs'))) {
      for (const file of sources(join(ROOT, 'libs', lib, 'src'))) {
        for (const table of tablesNamedIn(readFileSync(file, 'utf8'))) {
          const of = owner.get(table);
          if (of && of !== lib) crossings.push(`${relative(ROOT, file)}: ${table} (${of}'s)`);
        }
      }
    }
    expect(crossings).toEqual([]);
  });

  it('would catch a crossing, over a line break too', () => {
    expect(tablesNamedIn('SELECT 1 FROM\n   tenants t JOIN "messages" m')).toEqual([
      'tenants',
      'messages',
    ]);
  });
});

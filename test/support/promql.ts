/**
 * Just enough of PromQL to check dashboards and alert rules against the metrics an app exposes:
 * the metric names an expression selects, the label names its selectors match on, and the
 * label names of its `by`/`without`/`on`/`ignoring`/`group_left`/`group_right` clauses. Strings,
 * ranges (`[5m]`, `[1h:1m]`), numbers, durations, functions and keywords are skipped; Grafana's
 * variables (`$__rate_interval`, `$tenant`, `${model}`) are read as durations or values.
 */
export interface PromqlSelector {
  /** The metric name before the braces; undefined for a bare `{...}` selector. */
  metric?: string;
  /** The label names matched on, e.g. ['route', 'status_code']. */
  labels: string[];
  /** Matchers as written: label, operator and the (unquoted) value. */
  matchers: { label: string; op: string; value: string }[];
}

export interface PromqlRefs {
  metrics: string[];
  selectors: PromqlSelector[];
  /** Label names of grouping and vector matching clauses. */
  grouping: string[];
}

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Aggregations may put their `by (...)` before the parenthesis: `sum by (le) (rate(...))`. */
const AGGREGATIONS = [
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
];
const KEYWORDS = new Set([
  ...GROUPING,
  ...AGGREGATIONS,
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  'atan2',
  'start',
  'end',
]);
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL = /[a-zA-Z_][a-zA-Z0-9_]*/y;

export function promqlRefs(source: string): PromqlRefs {
  // Grafana's variables: `$__rate_interval` in a range, `$tenant` in a string; both stay valid.
  const expr = source.replace(/\$\{[^}]+\}|\$[a-zA-Z_]\w*/g, '5m');
  const refs: PromqlRefs = { metrics: [], selectors: [], grouping: [] };
  let i = 0;
  let lastIdent: { name: string; end: number } | undefined;

  const skipSpace = (from: number) => {
    let j = from;
    while (j < expr.length && /\s/.test(expr[j]!)) j++;
    return j;
  };
  const skipString = (from: number) => {
    const quote = expr[from];
    let j = from + 1;
    while (j < expr.length && expr[j] !== quote) j += expr[j] === '\\' ? 2 : 1;
    if (j >= expr.length) throw new Error(`unterminated string in: ${source}`);
    return j + 1;
  };
  const readString = (from: number) => expr.slice(from + 1, skipString(from) - 1);
  const closing = (from: number, open: string, close: string) => {
    let depth = 0;
    for (let j = from; j < expr.length; j++) {
      const c = expr[j]!;
      if (c === '"' || c === "'" || c === '`') {
        j = skipString(j) - 1;
        continue;
      }
      if (c === open) depth++;
      if (c === close && --depth === 0) return j;
    }
    throw new Error(`unbalanced ${open}${close} in: ${source}`);
  };

  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(i);
      lastIdent = undefined;
      continue;
    }
    if (c === '[') {
      i = closing(i, '[', ']') + 1;
      lastIdent = undefined;
      continue;
    }
    if (c === '{') {
      const end = closing(i, '{', '}');
      const selector: PromqlSelector = { labels: [], matchers: [] };
      if (lastIdent && expr.slice(lastIdent.end, i).trim() === '') selector.metric = lastIdent.name;
      let j = i + 1;
      while (j < end) {
        j = skipSpace(j);
        if (expr[j] === ',' || j >= end) {
          j++;
          continue;
        }
        LABEL.lastIndex = j;
        const label = LABEL.exec(expr)?.[0];
        if (!label) throw new Error(`bad matcher at ${j} in: ${source}`);
        j = skipSpace(j + label.length);
        const op = /^(=~|!~|!=|=)/.exec(expr.slice(j))?.[0];
        if (!op) throw new Error(`no matcher operator after ${label} in: ${source}`);
        j = skipSpace(j + op.length);
        const value = readString(j);
        j = skipString(j);
        selector.labels.push(label);
        selector.matchers.push({ label, op, value });
      }
      refs.selectors.push(selector);
      i = end + 1;
      lastIdent = undefined;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      // A number or a duration: 0.95, 1e3, 5m, 1h30m, 0x1f.
      i++;
      while (i < expr.length && /[0-9a-zA-Z_.]/.test(expr[i]!)) i++;
      lastIdent = undefined;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(expr)?.[0];
    if (ident) {
      const end = i + ident.length;
      const next = skipSpace(end);
      const word = ident.toLowerCase();
      if (GROUPING.has(word) && expr[next] === '(') {
        const close = closing(next, '(', ')');
        refs.grouping.push(
          ...expr
            .slice(next + 1, close)
            .split(',')
            .map((l) => l.trim())
            .filter(Boolean),
        );
        i = close + 1;
        lastIdent = undefined;
        continue;
      }
      if (KEYWORDS.has(word) || expr[next] === '(') {
        // A keyword, an aggregation or a function: not a metric.
        i = end;
        lastIdent = undefined;
        continue;
      }
      refs.metrics.push(ident);
      const selector: PromqlSelector = { metric: ident, labels: [], matchers: [] };
      if (expr[next] !== '{') refs.selectors.push(selector);
      lastIdent = { name: ident, end };
      i = end;
      continue;
    }
    // Operators and punctuation.
    i++;
    lastIdent = undefined;
  }
  return refs;
}

/** Grafana's `label_values(metric{...}, label)` (or `label_values(label)`) variable query. */
export function labelValuesQuery(query: string): { expr?: string; label: string } | undefined {
  const inner = /^label_values\((.*)\)$/s.exec(query.trim())?.[1];
  if (inner === undefined) return undefined;
  const comma = inner.lastIndexOf(',');
  const label = inner.slice(comma + 1).trim();
  if (!/^[a-zA-Z_]\w*$/.test(label)) return undefined;
  return { expr: comma < 0 ? undefined : inner.slice(0, comma).trim(), label };
}

/** The label names a Grafana legend (`{{route}}`) or alert template (`{{ $labels.route }}`) uses. */
export function templateLabels(text: string): string[] {
  const labels = new Set<string>();
  for (const m of text.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) labels.add(m[1]!);
  for (const m of text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) labels.add(m[1]!);
  return [...labels];
}

import { loadConfig, Metrics } from '@parley/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { createWorkerApp } from '../../apps/worker/src/bootstrap';
import { labelValuesQuery, promqlRefs, templateLabels } from '../support/promql';
import { REPO_ROOT } from '../support/spawned-process';
import { createTestApp, METRICS_AUTH, testEnv, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The files of docker/observability (Grafana dashboard and provisioning, Prometheus config and
 * alert rules, OpenTelemetry Collector config) and docker/compose.yaml, checked statically
 * against the real application: every PromQL expression may use only the metrics and labels a
 * booted api and worker expose on /metrics.
 */
const DOCKER = join(REPO_ROOT, 'docker');
const OBS = join(DOCKER, 'observability');
const read = (path: string) => readFileSync(path, 'utf8');
const readYaml = (path: string) => parse(read(path), { merge: true });

/** Labels Prometheus adds to every scraped series (target labels). */
const TARGET_LABELS = ['job', 'instance'];
const OBSERVABILITY_SERVICES = ['otel-collector', 'prometheus', 'grafana'];

type Catalogue = Map<string, Set<string>>;

/**
 * Series names → label names, from the exposition text of /metrics (every registered metric has
 * its `# TYPE` line, observed or not) and the registry's label names.
 */
async function catalogueOf(app: NestFastifyApplication, into: Catalogue): Promise<void> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: METRICS_AUTH });
  expect(res.statusCode).toBe(200);
  const registry = app.get(Metrics).registry;
  for (const [, name, type] of res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const declared =
      (registry.getSingleMetric(name!) as unknown as { labelNames?: string[] } | undefined)
        ?.labelNames ?? [];
    const labels = [...declared, ...TARGET_LABELS];
    const series: [string, string[]][] =
      type === 'histogram'
        ? [
            [`${name}_bucket`, [...labels, 'le']],
            [`${name}_sum`, labels],
            [`${name}_count`, labels],
          ]
        : type === 'summary'
          ? [
              [name!, [...labels, 'quantile']],
              [`${name}_sum`, labels],
              [`${name}_count`, labels],
            ]
          : [[name!, labels]];
    for (const [s, l] of series) into.set(s, new Set([...(into.get(s) ?? []), ...l]));
  }
  // Labels seen on samples (e.g. of default metrics that declare none).
  for (const [, name, labelText] of res.body.matchAll(/^([a-zA-Z_:][\w:]*)\{([^}]*)\}/gm)) {
    const set = into.get(name!);
    for (const [, label] of labelText!.matchAll(/(?<!\w)([a-zA-Z_]\w*)="/g)) set?.add(label!);
  }
}

interface Problem {
  where: string;
  problem: string;
}

/** What is wrong with one expression: unknown metrics, and labels those metrics do not have. */
function checkExpr(
  catalogue: Catalogue,
  where: string,
  expr: string,
  templates: string[] = [],
): Problem[] {
  const problems: Problem[] = [];
  let refs;
  try {
    refs = promqlRefs(expr);
  } catch (error) {
    return [{ where, problem: (error as Error).message }];
  }
  if (refs.metrics.length === 0) problems.push({ where, problem: `no metric in: ${expr}` });
  const known = new Set<string>(TARGET_LABELS);
  for (const metric of refs.metrics) {
    const labels = catalogue.get(metric);
    if (!labels) problems.push({ where, problem: `unknown metric ${metric}` });
    else labels.forEach((l) => known.add(l));
  }
  for (const selector of refs.selectors) {
    const labels = selector.metric ? catalogue.get(selector.metric) : undefined;
    if (!selector.metric) problems.push({ where, problem: `selector without a metric: ${expr}` });
    for (const label of selector.labels)
      if (labels && !labels.has(label))
        problems.push({ where, problem: `${selector.metric} has no label ${label}` });
  }
  for (const label of [...refs.grouping, ...templates])
    if (!known.has(label))
      problems.push({
        where,
        problem: `label ${label} is on none of ${refs.metrics.join(', ')}`,
      });
  return problems;
}

function report(problems: Problem[]): string {
  return problems.map((p) => `${p.where}: ${p.problem}`).join('\n');
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: { refId: string; expr: string; legendFormat?: string; datasource?: unknown }[];
  panels?: Panel[];
}

const dashboard = () =>
  JSON.parse(read(join(OBS, 'grafana/dashboards/parley.json'))) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    templating: {
      list: {
        name: string;
        type: string;
        query: string | { query: string };
        definition?: string;
        datasource?: unknown;
      }[];
    };
  };
const allPanels = (panels: Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const VAR_DS = { type: 'prometheus', uid: '${datasource}' };

interface AlertRule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertRules = () =>
  (
    readYaml(join(OBS, 'prometheus/alerts.yml')) as {
      groups: { name: string; rules: AlertRule[] }[];
    }
  ).groups;

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: (string | { type?: string; source?: string; target: string })[];
  profiles?: string[];
  depends_on?: Record<string, unknown> | string[];
  ports?: string[];
}
const compose = () =>
  readYaml(join(DOCKER, 'compose.yaml')) as { services: Record<string, ComposeService> };

/** A service's mounts of files or directories of this repository: absolute source → target. */
function bindMounts(service: ComposeService): { source: string; target: string }[] {
  return (service.volumes ?? []).flatMap((v) => {
    const [source, target] =
      typeof v === 'string' ? v.split(':') : [v.type === 'bind' ? v.source : undefined, v.target];
    return source && /^[./]/.test(source)
      ? [{ source: resolve(DOCKER, source), target: target! }]
      : [];
  });
}
const mountOf = (service: ComposeService, file: string) =>
  bindMounts(service).find((m) => m.source === file);
const asList = (command: string[] | string | undefined) =>
  typeof command === 'string' ? command.split(/\s+/) : command;
const flag = (command: string[] | undefined, name: string) =>
  command?.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);

describe('PromQL scanner (test support)', () => {
  it('finds metrics, matcher labels and grouping labels, and nothing else', () => {
    const refs = promqlRefs(
      'histogram_quantile(0.95, sum by (route, le) (rate(parley_x_bucket{route!~"/metrics|a{b}", status_code=~"5.."}[$__rate_interval]))) ' +
        '/ on (job) group_left (version) max without (instance) (up offset 1h) > bool 1e3 and vector(0)',
    );
    expect(refs.metrics).toEqual(['parley_x_bucket', 'up']);
    expect(refs.selectors.find((s) => s.metric === 'parley_x_bucket')?.labels).toEqual([
      'route',
      'status_code',
    ]);
    expect(refs.grouping).toEqual(['route', 'le', 'job', 'version', 'instance']);
    expect(
      labelValuesQuery('label_values(parley_llm_tokens_total{tenant=~"$tenant"}, model)'),
    ).toEqual({ expr: 'parley_llm_tokens_total{tenant=~"$tenant"}', label: 'model' });
    expect(templateLabels('{{method}} {{ route }} on {{ $labels.instance }}')).toEqual([
      'method',
      'route',
      'instance',
    ]);
  });
});

describe('observability files against the metrics the app exposes', () => {
  const catalogue: Catalogue = new Map([['up', new Set(TARGET_LABELS)]]);
  let api: TestApp;
  let worker: NestFastifyApplication | undefined;
  let workerDatabase: TestDatabase;

  beforeAll(async () => {
    // The api with the workers in process registers every metric; the worker process, its own.
    api = await createTestApp({ env: { WORKERS_IN_PROCESS: 'true' } });
    await catalogueOf(api.app, catalogue);
    workerDatabase = await createTestDatabase();
    worker = await createWorkerApp(
      loadConfig({ env: testEnv({ ...workerDatabase.env }), isTty: false }),
    );
    await worker.init();
    await worker.getHttpAdapter().getInstance().ready();
    await catalogueOf(worker, catalogue);
  });
  afterAll(async () => {
    await worker?.close();
    await workerDatabase?.drop();
    await api?.close();
  });

  it('knows the metrics of every lib (the catalogue is not empty by accident)', () => {
    for (const name of [
      'parley_http_request_duration_seconds_bucket',
      'parley_llm_time_to_first_token_seconds_bucket',
      'parley_llm_tokens_total',
      'parley_queue_jobs',
      'parley_queue_job_duration_seconds_count',
      'parley_process_resident_memory_bytes',
      'parley_nodejs_eventloop_lag_p99_seconds',
    ])
      expect(catalogue.has(name)).toBe(true);
    expect(catalogue.get('parley_http_request_duration_seconds_bucket')).toEqual(
      new Set(['route', 'method', 'status_code', 'le', ...TARGET_LABELS]),
    );
  });

  it('the dashboard queries only metrics and labels the app exposes', () => {
    const d = dashboard();
    const problems: Problem[] = [];
    let exprs = 0;
    for (const panel of allPanels(d.panels))
      for (const t of panel.targets ?? []) {
        exprs++;
        problems.push(
          ...checkExpr(
            catalogue,
            `panel ${panel.id} "${panel.title}" ${t.refId}`,
            t.expr,
            templateLabels(t.legendFormat ?? '').filter((l) => l !== '__name__'),
          ),
        );
      }
    for (const v of d.templating.list.filter((v) => v.type === 'query')) {
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      const parsed = labelValuesQuery(query);
      if (!parsed?.expr) {
        problems.push({
          where: `variable ${v.name}`,
          problem: `not label_values(metric, label): ${query}`,
        });
        continue;
      }
      problems.push(...checkExpr(catalogue, `variable ${v.name}`, parsed.expr, [parsed.label]));
      if (v.definition !== undefined) expect(v.definition).toBe(query);
    }
    expect(exprs).toBeGreaterThan(40);
    expect(report(problems)).toBe('');
  });

  it('the dashboard shows every metric family the app defines', () => {
    const used = new Set(
      allPanels(dashboard().panels).flatMap((p) =>
        (p.targets ?? []).flatMap((t) => promqlRefs(t.expr).metrics),
      ),
    );
    const family = (series: string) => series.replace(/_(bucket|sum|count)$/, '');
    const usedFamilies = new Set([...used].map(family));
    const defined = [...catalogue.keys()]
      .filter((s) => s.startsWith('parley_') && !/^parley_(process|nodejs)_/.test(s))
      .map(family);
    const missing = [...new Set(defined)].filter((f) => !usedFamilies.has(f));
    // A new metric wants a panel in docker/observability/grafana/dashboards/parley.json.
    expect(missing).toEqual([]);
  });

  it('the alert rules query only metrics and labels the app exposes', () => {
    const problems: Problem[] = [];
    for (const group of alertRules())
      for (const rule of group.rules) {
        const text = Object.values(rule.annotations ?? {}).join(' ');
        problems.push(
          ...checkExpr(
            catalogue,
            `${group.name}/${rule.alert ?? rule.record}`,
            rule.expr ?? '',
            templateLabels(text),
          ),
        );
      }
    expect(report(problems)).toBe('');
  });

  it('job matchers name the jobs prometheus.yml scrapes', () => {
    const jobs = new Set(
      (
        readYaml(join(OBS, 'prometheus/prometheus.yml')) as {
          scrape_configs: { job_name: string }[];
        }
      ).scrape_configs.map((s) => s.job_name),
    );
    const exprs = [
      ...alertRules().flatMap((g) => g.rules.map((r) => r.expr ?? '')),
      ...allPanels(dashboard().panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ];
    const named = exprs.flatMap((e) =>
      promqlRefs(e)
        .selectors.flatMap((s) => s.matchers)
        .filter((m) => m.label === 'job' && (m.op === '=' || m.op === '=~'))
        .flatMap((m) => m.value.split('|')),
    );
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((j) => !jobs.has(j))).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  it('is valid JSON with uid parley, a datasource variable and tenant/model variables', () => {
    const d = dashboard();
    expect(d.uid).toBe('parley');
    expect(d.title).toBe('Parley');
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['tenant', 'model']) {
      expect(vars[name]).toMatchObject({ type: 'query', datasource: VAR_DS });
      const query = vars[name]!.query;
      expect(typeof query === 'string' ? query : query.query).toMatch(
        new RegExp(`^label_values\\(.*, ${name}\\)$`),
      );
    }
  });

  it('has unique panel ids, every panel on the datasource variable, and no overlaps', () => {
    const panels = allPanels(dashboard().panels);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const problems: string[] = [];
    for (const p of panels.filter((p) => p.type !== 'row')) {
      if (JSON.stringify(p.datasource) !== JSON.stringify(VAR_DS))
        problems.push(`panel ${p.id} "${p.title}": datasource ${JSON.stringify(p.datasource)}`);
      if (!p.targets?.length) problems.push(`panel ${p.id} "${p.title}": no targets`);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      if (new Set(refIds).size !== refIds.length) problems.push(`panel ${p.id}: refIds repeat`);
      for (const t of p.targets ?? [])
        if (t.datasource !== undefined && JSON.stringify(t.datasource) !== JSON.stringify(VAR_DS))
          problems.push(`panel ${p.id} ${t.refId}: datasource ${JSON.stringify(t.datasource)}`);
    }
    const cells = new Map<string, number>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      if (x < 0 || w < 1 || x + w > 24 || h < 1) problems.push(`panel ${p.id}: gridPos outside`);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          const other = cells.get(`${i},${j}`);
          if (other !== undefined) problems.push(`panel ${p.id} overlaps panel ${other}`);
          cells.set(`${i},${j}`, p.id);
        }
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  it('covers the golden signals and the LLM, cost, guardrail, retrieval and queue views', () => {
    const exprs = allPanels(dashboard().panels)
      .flatMap((p) => (p.targets ?? []).map((t) => t.expr))
      .join('\n');
    for (const q of ['0.5', '0.95', '0.99'])
      for (const metric of [
        'parley_http_request_duration_seconds_bucket',
        'parley_llm_request_duration_seconds_bucket',
        'parley_llm_time_to_first_token_seconds_bucket',
      ])
        expect(exprs).toMatch(new RegExp(`histogram_quantile\\(${q}, [^\\n]*${metric}`));
    expect(exprs).toContain('status_code=~"5.."');
    expect(exprs).toMatch(/sum by \(tenant[^)]*\) \(rate\(parley_llm_tokens_total/);
    expect(exprs).toMatch(/sum by \(tenant[^)]*\) \(rate\(parley_llm_cost_usd_total/);
    expect(exprs).toMatch(/by \([^)]*detector[^)]*\) \(increase\(parley_guardrail_blocks_total/);
    expect(exprs).toMatch(/by \(reason\) \(increase\(parley_budget_refusals_total/);
    expect(exprs).toMatch(/by \(mode, le\) \(rate\(parley_retrieval_duration_seconds_bucket/);
    expect(exprs).toMatch(/by \(queue, state\) \(parley_queue_jobs/);
  });
});

describe('Prometheus config and alert rules', () => {
  it('has groups of rules, each with alert, expr, for, a severity and a summary', () => {
    const groups = alertRules();
    expect(groups.length).toBeGreaterThan(0);
    const names: string[] = [];
    for (const group of groups) {
      expect(group.rules.length).toBeGreaterThan(0);
      for (const rule of group.rules) {
        expect(rule).toMatchObject({
          alert: expect.stringMatching(/^[A-Z]\w+$/),
          expr: expect.any(String),
          for: expect.stringMatching(/^\d+[smhd]$/),
          labels: { severity: expect.stringMatching(/^(critical|warning|info)$/) },
          annotations: { summary: expect.any(String), description: expect.any(String) },
        });
        names.push(rule.alert!);
      }
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('alerts on errors, latency, breakers, budgets, queues and targets down', () => {
    const exprs = alertRules().flatMap((g) => g.rules.map((r) => r.expr!));
    const some = (re: RegExp) => expect(exprs.some((e) => re.test(e))).toBe(true);
    some(/parley_http_request_duration_seconds_count\{status_code=~"5.."\}[^/]*\/[\s\S]*_count/);
    some(/histogram_quantile\(0\.95,[\s\S]*parley_http_request_duration_seconds_bucket/);
    some(/parley_llm_breaker_open\) > 0/);
    some(/increase\(parley_budget_refusals_total/);
    some(/parley_queue_jobs\{state="waiting"\}\) > \d+/);
    some(/parley_queue_jobs\{state="failed"\}/);
    some(/^up\{[^}]*\} == 0$/);
  });

  it('scrapes the api and the worker on the ports compose runs them on', () => {
    const config = readYaml(join(OBS, 'prometheus/prometheus.yml')) as {
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        static_configs: { targets: string[] }[];
      }[];
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]),
    );
    const services = compose().services;
    // On a metrics port of their own (open there, unpublished): /metrics on the main ports
    // needs METRICS_TOKEN, which the compose stack does not set.
    for (const name of ['api', 'worker'] as const) {
      const port = services[name]!.environment!.METRICS_PORT;
      expect({ name, port }).toEqual({ name, port: expect.stringMatching(/^\d+$/) });
      expect(targets[`parley-${name}`]).toEqual([`${name}:${port}`]);
      expect(JSON.stringify(services[name]!.ports ?? [])).not.toContain(port);
      expect(services[name]!.environment!.METRICS_TOKEN).toBeUndefined();
    }
    expect(services.api!.ports).toContain('3000:3000');
    for (const s of config.scrape_configs.filter((s) => s.job_name.startsWith('parley-')))
      expect(s.metrics_path ?? '/metrics').toBe('/metrics');
  });
});

describe('docker/compose.yaml', () => {
  const services = () => compose().services;

  it('parses, keeps the stack, and pins every image', () => {
    const s = services();
    for (const name of [
      'postgres',
      'redis',
      'qdrant',
      'migrate',
      'api',
      'worker',
      ...OBSERVABILITY_SERVICES,
    ])
      expect(s[name]).toBeDefined();
    expect(s.postgres!.image).toMatch(/^pgvector\/pgvector:/);
    const unpinned = Object.entries(s)
      .filter(([, service]) => {
        const image = service.image ?? '';
        if (image.includes('@sha256:')) return false;
        const tag = /:([^/:]+)$/.exec(image)?.[1];
        return !tag || tag === 'latest';
      })
      .map(([name, service]) => `${name}: ${service.image}`);
    expect(unpinned).toEqual([]);
  });

  it('mounts only files and directories that exist', () => {
    const missing = Object.entries(services()).flatMap(([name, service]) =>
      bindMounts(service)
        .filter((m) => !existsSync(m.source))
        .map((m) => `${name}: ${m.source}`),
    );
    expect(missing).toEqual([]);
  });

  it('runs Redis with noeviction (BullMQ needs it) and appendonly', () => {
    const command = asList(services().redis!.command)!.join(' ');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(command).toContain('--appendonly yes');
  });

  it('runs the api, worker and migrate commands of the Dockerfile and package.json', () => {
    const dockerfile = read(join(DOCKER, 'Dockerfile'));
    const cmds = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)];
    const cmd = JSON.parse(cmds.at(-1)![1]!) as string[];
    const scripts = (
      JSON.parse(read(join(REPO_ROOT, 'package.json'))) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    const split = (script: string) => scripts[script]!.trim().split(/\s+/);
    // `npm start` goes through scripts/start.mjs (which makes sure of Node 24, then runs the
    // entry with source maps on); the image is Node 24 and runs the same entry directly.
    const inImage = (script: string) => {
      const [node, wrapper, ...entry] = split(script);
      expect([node, wrapper]).toEqual(['node', 'scripts/start.mjs']);
      return ['node', '--enable-source-maps', ...entry];
    };
    expect(cmd).toEqual(inImage('start'));
    const s = services();
    expect(asList(s.api!.command) ?? cmd).toEqual(cmd);
    expect(asList(s.worker!.command)).toEqual(inImage('start:worker'));
    expect(asList(s.migrate!.command)).toEqual(split('migrate'));
    // Every one runs the image built from docker/Dockerfile.
    for (const name of ['api', 'worker', 'migrate']) {
      expect(s[name]!.image).toBe(s.api!.image);
      expect(s[name]!.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    }
    // The dist entry points come from these sources.
    for (const entry of [cmd, inImage('start:worker'), split('migrate')]) {
      const js = entry.find((a) => a.startsWith('dist/'))!;
      expect(existsSync(join(REPO_ROOT, js.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(
        true,
      );
    }
  });

  it('keeps tracing off by default and names the api and worker services', () => {
    const s = services();
    expect(s.api!.environment).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
      OTEL_SERVICE_NAME: 'parley-api',
    });
    expect(s.worker!.environment).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
      OTEL_SERVICE_NAME: 'parley-worker',
    });
    // Both still get the services-mode environment.
    for (const name of ['api', 'worker'])
      expect(s[name]!.environment).toMatchObject({
        DATABASE_URL: expect.stringMatching(/^postgres:\/\/.*@postgres:5432\//),
        REDIS_URL: 'redis://redis:6379',
      });
  });

  it('puts the observability services, and only them, in the observability profile', () => {
    const s = services();
    for (const [name, service] of Object.entries(s)) {
      if (OBSERVABILITY_SERVICES.includes(name))
        expect(service.profiles).toEqual(['observability']);
      else expect(service.profiles).toBeUndefined();
      // A default service cannot wait for one that only a profile starts.
      if (!OBSERVABILITY_SERVICES.includes(name)) {
        const deps = Array.isArray(service.depends_on)
          ? service.depends_on
          : Object.keys(service.depends_on ?? {});
        expect(deps.filter((d) => OBSERVABILITY_SERVICES.includes(d))).toEqual([]);
      }
    }
  });

  it('mounts prometheus.yml where Prometheus reads it, and the alerts where rule_files points', () => {
    const prometheus = services().prometheus!;
    const command = asList(prometheus.command);
    const config = mountOf(prometheus, join(OBS, 'prometheus/prometheus.yml'));
    expect(config?.target).toBe(flag(command, '--config.file') ?? '/etc/prometheus/prometheus.yml');
    const alerts = mountOf(prometheus, join(OBS, 'prometheus/alerts.yml'));
    expect(alerts).toBeDefined();
    const ruleFiles = (readYaml(join(OBS, 'prometheus/prometheus.yml')) as { rule_files: string[] })
      .rule_files;
    const glob = (pattern: string) =>
      new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    expect(ruleFiles.some((f) => glob(f).test(alerts!.target))).toBe(true);
    // Every rule file is a mounted file.
    const targets = bindMounts(prometheus).map((m) => m.target);
    for (const f of ruleFiles) expect(targets.some((t) => glob(f).test(t))).toBe(true);
  });

  it('provisions Grafana with the Prometheus datasource and the mounted dashboards', () => {
    const grafana = services().grafana!;
    const provisioning = mountOf(grafana, join(OBS, 'grafana/provisioning'));
    expect(provisioning?.target).toBe('/etc/grafana/provisioning');
    const datasources = readYaml(join(OBS, 'grafana/provisioning/datasources/prometheus.yaml')) as {
      datasources: { type: string; url: string }[];
    };
    const prometheus = datasources.datasources.find((d) => d.type === 'prometheus')!;
    const url = new URL(prometheus.url);
    expect(services()[url.hostname]).toBeDefined();
    expect(url.port).toBe('9090');
    const providers = (
      readYaml(join(OBS, 'grafana/provisioning/dashboards/parley.yaml')) as {
        providers: { type: string; options: { path: string } }[];
      }
    ).providers;
    const dashboards = mountOf(grafana, join(OBS, 'grafana/dashboards'));
    expect(dashboards).toBeDefined();
    expect(providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: dashboards!.target }),
      }),
    ]);
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) {
      expect(home.startsWith(`${dashboards!.target}/`)).toBe(true);
      expect(
        statSync(join(dashboards!.source, home.slice(dashboards!.target.length))).isFile(),
      ).toBe(true);
    }
    // No admin password in the file beyond the local-only default.
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(
      /^\$\{GRAFANA_ADMIN_PASSWORD:-/,
    );
  });

  it('runs the OpenTelemetry Collector with OTLP in, batch, and the debug exporter for traces', () => {
    const collector = services()['otel-collector']!;
    expect(collector.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    const file = join(OBS, 'otel-collector.yaml');
    const mount = mountOf(collector, file);
    expect(mount?.target).toBe(flag(asList(collector.command), '--config'));
    const config = readYaml(file) as {
      receivers: Record<string, { protocols?: Record<string, { endpoint: string }> }>;
      processors: Record<string, unknown>;
      exporters: Record<string, unknown>;
      extensions?: Record<string, unknown>;
      service: {
        extensions?: string[];
        pipelines: Record<
          string,
          { receivers: string[]; processors: string[]; exporters: string[] }
        >;
      };
    };
    expect(config.receivers.otlp!.protocols!.http!.endpoint).toBe('0.0.0.0:4318');
    expect(config.receivers.otlp!.protocols!.grpc!.endpoint).toBe('0.0.0.0:4317');
    const traces = config.service.pipelines.traces!;
    expect(traces.receivers).toContain('otlp');
    expect(traces.processors).toContain('batch');
    expect(traces.exporters).toContain('debug');
    for (const pipeline of Object.values(config.service.pipelines)) {
      for (const r of pipeline.receivers) expect(config.receivers).toHaveProperty([r]);
      for (const p of pipeline.processors) expect(config.processors).toHaveProperty([p]);
      for (const e of pipeline.exporters) expect(config.exporters).toHaveProperty([e]);
    }
    for (const e of config.service.extensions ?? []) expect(config.extensions).toHaveProperty([e]);
    // The api and worker reach it by its service name on the OTLP HTTP port.
    expect(read(join(DOCKER, 'compose.yaml'))).toContain('http://otel-collector:4318');
  });
});

/** A Dockerfile's instructions by stage: continuation lines joined, comments dropped. */
function dockerfileStages(text: string): {
  stages: { from: string; name?: string; instructions: { op: string; arg: string }[] }[];
} {
  const lines = text
    .replace(/\\\n(?:\s*#.*\n)*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !/^\s*#/.test(l));
  const args: Record<string, string> = {};
  const stages: ReturnType<typeof dockerfileStages>['stages'] = [];
  for (const line of lines) {
    const [, op, arg] = /^\s*(\w+)\s(.*)$/.exec(line)!;
    const instruction = { op: op!.toUpperCase(), arg: arg!.trim().replace(/\s+/g, ' ') };
    if (instruction.op === 'FROM') {
      const [, image, name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(
        instruction.arg,
      )!;
      // Global ARGs (before the first FROM) are what FROM lines may use.
      const from = image!.replace(/\$\{(\w+)\}/g, (ref, v: string) => args[v] ?? ref);
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0 && instruction.op === 'ARG') {
      const [, name, value] = /^(\w+)(?:=(.*))?$/.exec(instruction.arg)!;
      args[name!] = (value ?? '').replace(/^"(.*)"$/, '$1');
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return { stages };
}

describe('docker/Dockerfile', () => {
  const dockerfile = () => dockerfileStages(read(join(DOCKER, 'Dockerfile')));
  const runtime = () => dockerfile().stages.at(-1)!;
  const ops = (op: string) => runtime().instructions.filter((i) => i.op === op);
  /** The commands the local speech engines run (libs/audio), and the Debian packages with them. */
  const ENGINE_PACKAGES: Record<string, string> = {
    'espeak-ng': 'espeak-ng',
    pocketsphinx_continuous: 'pocketsphinx',
    ffmpeg: 'ffmpeg',
  };

  it('builds every stage on one exact Node 24 release (24.x.y) of Debian bookworm slim', () => {
    const { stages } = dockerfile();
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const { engines } = JSON.parse(read(join(REPO_ROOT, 'package.json'))) as {
      engines: { node: string };
    };
    const major = /^>=(\d+)/.exec(engines.node)![1];
    for (const stage of stages)
      expect(stage.from).toMatch(new RegExp(`^node:${major}\\.\\d+\\.\\d+-bookworm-slim$`));
    expect(new Set(stages.map((s) => s.from)).size).toBe(1);
  });

  it('installs in the runtime stage what the local speech engines run, as .ci/run does', () => {
    // Every engine libs/audio looks for has its package above; a new engine needs a line there.
    const looked = [
      ...read(join(REPO_ROOT, 'libs/audio/src/speech-providers.service.ts')).matchAll(
        /commandAvailable\('([^']+)'/g,
      ),
    ].map((m) => m[1]!);
    expect(looked.sort()).toEqual(Object.keys(ENGINE_PACKAGES).sort());
    const installs = ops('RUN')
      .flatMap((r) => [...r.arg.matchAll(/apt-get install ([^&|;]+)/g)])
      .flatMap((m) => m[1]!.split(/\s+/).filter((w) => w && !w.startsWith('-')));
    // pocketsphinx transcribes with its US English model (pocketsphinx-en-us).
    const needed = [...Object.values(ENGINE_PACKAGES), 'pocketsphinx-en-us'];
    expect(installs).toEqual(expect.arrayContaining(needed));
    // The packages CI installs for the audio tests.
    const ci = /apt_install (espeak-ng.*)$/m.exec(read(join(REPO_ROOT, '.ci/run')))![1]!;
    expect(ci.split(/\s+/)).toEqual(expect.arrayContaining(needed));
  });

  it('ships only the linux-x64 binaries of onnxruntime', () => {
    const copied = ops('COPY').find((c) => /\s\/app\/node_modules\s/.test(` ${c.arg} `))!;
    const from = /--from=(\S+)/.exec(copied.arg)![1];
    const deps = dockerfile().stages.find((s) => s.name === from)!;
    const runs = deps.instructions.filter((i) => i.op === 'RUN').map((i) => i.arg);
    const prune = runs.find((r) => r.includes('onnxruntime-node/bin'));
    // Every napi-v*/<platform>/<arch> directory but linux/x64 is removed…
    expect(prune).toMatch(
      /for dir in "\$bin"\/napi-v\*\/\*\/\*; do case "\$dir" in \*\/linux\/x64\) ;; \*\) rm -rf "\$dir" ;; esac; done/,
    );
    // … after the install that brought them.
    expect(runs.findIndex((r) => r.includes('npm ci'))).toBeLessThan(runs.indexOf(prune!));
  });

  it('runs as the non-root node user, with a HEALTHCHECK, OCI labels and the command the README documents', () => {
    const users = ops('USER').map((u) => u.arg);
    expect(users.at(-1)).toBe('node');
    expect(users.filter((u) => /^(root|0)(:|$)/.test(u))).toEqual([]);
    expect(ops('HEALTHCHECK')).toHaveLength(1);
    expect(ops('HEALTHCHECK')[0]!.arg).toContain('/health/live');
    const labels = ops('LABEL')
      .map((l) => l.arg)
      .join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'source'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    const cmd = JSON.parse(ops('CMD').at(-1)!.arg) as string[];
    const readme = read(join(REPO_ROOT, 'README.md'));
    expect(/The image's command is\s+`([^`]+)`/.exec(readme)?.[1]).toBe(cmd.join(' '));
    // The README names the base image the Dockerfile pins.
    expect(readme).toContain(`\`${runtime().from}\``);
  });
});

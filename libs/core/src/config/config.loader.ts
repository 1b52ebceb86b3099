import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type RawConfig } from './config.schema';
import { ENV_BINDINGS, type EnvBinding } from './config.env';
import { AppConfig, type ResolvedProvider } from './app-config';

/** A configuration problem, reported as one line that names the key and the reason. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`Invalid configuration: ${key}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** The environment to read; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Folder holding default.yaml and <APP_ENV>.yaml; defaults to CONFIG_DIR or ./config. */
  configDir?: string;
  /** Whether stdout is a terminal, for `log.format: auto`. */
  isTty?: boolean;
}

type Tree = Record<string, unknown>;

export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const configDir = resolve(options.configDir ?? env.CONFIG_DIR ?? join(process.cwd(), 'config'));
  const tree = readYaml(join(configDir, 'default.yaml'), true);
  const appEnv = readEnvValue(env, 'APP_ENV') ?? (get(tree, 'app.env') as string | undefined);
  if (appEnv) {
    if (!/^[a-z0-9-]+$/i.test(appEnv)) {
      throw new ConfigError('app.env', `"${appEnv}" is not a valid environment name`);
    }
    merge(tree, readYaml(join(configDir, `${appEnv}.yaml`), false));
  }
  for (const binding of ENV_BINDINGS) {
    if (binding.secret && get(tree, binding.path) != null) {
      throw new ConfigError(
        binding.path,
        `is a secret and may not be set in YAML; set ${binding.env} or ${binding.env}_FILE instead`,
      );
    }
    const value = readBinding(env, binding);
    if (value !== undefined) set(tree, binding.path, value);
  }
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.');
    const binding = ENV_BINDINGS.find((b) => b.path === path);
    const where = binding ? ` (env ${binding.env})` : '';
    const reason =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
        : issue.message;
    throw new ConfigError(`${path || '(root)'}${where}`, reason);
  }
  return resolveDerived(
    parsed.data,
    options.isTty ?? Boolean(process.stdout.isTTY),
    configDir,
    env,
  );
}

/** Fills in the values that depend on the runtime mode. */
function resolveDerived(
  raw: RawConfig,
  isTty: boolean,
  configDir: string,
  env: NodeJS.ProcessEnv,
): AppConfig {
  const embedded = raw.database.url === undefined;
  if (raw.rag.vectorStore === 'qdrant' && !raw.rag.qdrant.url)
    throw new ConfigError(
      'rag.qdrant.url (env QDRANT_URL)',
      'VECTOR_STORE is qdrant, so QDRANT_URL must be set (e.g. http://qdrant:6333)',
    );
  const dataDir = isAbsolute(raw.database.embedded.dataDir)
    ? raw.database.embedded.dataDir
    : resolve(process.cwd(), raw.database.embedded.dataDir);
  return Object.freeze({
    ...raw,
    configDir,
    mode: embedded ? 'embedded' : 'services',
    server: {
      ...raw.server,
      docs: raw.server.docs === 'auto' ? raw.app.env !== 'production' : raw.server.docs,
    },
    log: {
      ...raw.log,
      format: raw.log.format === 'auto' ? (isTty ? 'pretty' : 'json') : raw.log.format,
    },
    database: {
      ...raw.database,
      migrateOnBoot: raw.database.migrateOnBoot === 'auto' ? embedded : raw.database.migrateOnBoot,
      embedded: { ...raw.database.embedded, dataDir },
    },
    llm: resolveLlm(raw.llm, env),
    queue: {
      ...raw.queue,
      backend: raw.redis.url ? 'redis' : 'postgres',
      workersInProcess:
        raw.queue.workersInProcess === 'auto' ? embedded : raw.queue.workersInProcess,
    },
  }) as AppConfig;
}

function readEnvValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Reads NAME, or the file NAME_FILE points at (Kubernetes secrets); never both. */
function readBinding(env: NodeJS.ProcessEnv, binding: EnvBinding): string | undefined {
  const direct = readEnvValue(env, binding.env);
  const file = readEnvValue(env, `${binding.env}_FILE`);
  if (direct !== undefined && file !== undefined) {
    throw new ConfigError(
      `${binding.path} (env ${binding.env})`,
      `both ${binding.env} and ${binding.env}_FILE are set; set only one`,
    );
  }
  if (file === undefined) return direct;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError(
      `${binding.path} (env ${binding.env}_FILE)`,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

function readYaml(file: string, required: boolean): Tree {
  if (!existsSync(file)) {
    if (required) throw new ConfigError('(file)', `${file} does not exist`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `(file ${file})`,
      `is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`(file ${file})`, 'must hold a mapping of namespaces');
  }
  return doc as Tree;
}

function get(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], tree);
}

function set(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

function merge(target: Tree, source: Tree): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isTree(value) && isTree(existing)) merge(existing, value);
    else target[key] = value;
  }
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Providers with their keys read from the variables YAML names, plus the LLM_* provider. */
function resolveLlm(llm: RawConfig['llm'], env: NodeJS.ProcessEnv): AppConfig['llm'] {
  const providers: ResolvedProvider[] = llm.providers.map((p, i) => {
    let apiKey: string | undefined;
    if (p.apiKeyEnv) {
      apiKey = readBinding(env, {
        env: p.apiKeyEnv,
        path: `llm.providers.${i}.apiKey`,
        secret: true,
      });
      if (!apiKey) {
        throw new ConfigError(
          `llm.providers.${i}.apiKeyEnv`,
          `${p.apiKeyEnv} (or ${p.apiKeyEnv}_FILE) is not set`,
        );
      }
    }
    return {
      name: p.name,
      baseUrl: p.baseUrl,
      apiKey,
      timeoutMs: p.timeoutMs ?? llm.timeoutMs,
      models: p.models,
    };
  });
  const aliases = { ...llm.aliases };
  if (llm.baseUrl) {
    if (!llm.model)
      throw new ConfigError('llm.model (env LLM_MODEL)', 'is required when LLM_BASE_URL is set');
    if (providers.some((p) => p.name === 'env')) {
      throw new ConfigError(
        'llm.providers',
        'the name "env" is reserved for the LLM_BASE_URL provider',
      );
    }
    const models = [llm.model, ...(llm.embeddingModel ? [llm.embeddingModel] : [])];
    providers.push({
      name: 'env',
      baseUrl: llm.baseUrl,
      apiKey: llm.apiKey,
      timeoutMs: llm.timeoutMs,
      models,
    });
    aliases.default ??= [`env/${llm.model}`];
  }
  const names = new Set<string>();
  for (const p of providers) {
    if (names.has(p.name))
      throw new ConfigError('llm.providers', `the provider name "${p.name}" is used twice`);
    names.add(p.name);
  }
  for (const [alias, chain] of Object.entries(aliases)) {
    for (const entry of chain) {
      const [provider, ...rest] = entry.split('/');
      const model = rest.join('/');
      const target = providers.find((p) => p.name === provider);
      if (!target || !model) {
        throw new ConfigError(
          `llm.aliases.${alias}`,
          `"${entry}" must be provider/model with a configured provider`,
        );
      }
      if (!target.models.includes(model)) {
        throw new ConfigError(
          `llm.aliases.${alias}`,
          `provider "${provider}" does not list the model "${model}"`,
        );
      }
    }
  }
  return { ...llm, resolvedProviders: providers, resolvedAliases: aliases };
}

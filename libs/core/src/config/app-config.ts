import type { RawConfig } from './config.schema';

export interface ResolvedProvider {
  name: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  models: string[];
}

type Derived = {
  /** `embedded` when DATABASE_URL is unset (PGlite), `services` otherwise. */
  mode: 'embedded' | 'services';
  configDir: string;
  log: Omit<RawConfig['log'], 'format'> & { format: 'json' | 'pretty' };
  /** `docs: auto` resolved: on unless app.env is `production`. */
  server: Omit<RawConfig['server'], 'docs'> & { docs: boolean };
  database: Omit<RawConfig['database'], 'migrateOnBoot'> & { migrateOnBoot: boolean };
  llm: RawConfig['llm'] & {
    /** Providers from YAML and the LLM_* variables, with their API keys read from the environment. */
    resolvedProviders: ResolvedProvider[];
    /** Aliases, including `default` → the LLM_MODEL provider when configured by environment. */
    resolvedAliases: Record<string, string[]>;
  };
  queue: Omit<RawConfig['queue'], 'workersInProcess'> & {
    workersInProcess: boolean;
    backend: 'redis' | 'postgres';
  };
};

/**
 * The validated configuration, in typed namespaces. The abstract class is also the DI token:
 * inject `AppConfig` anywhere to read it.
 */
export abstract class AppConfig {}
// Declaration merging gives the token its shape without a second, hand-kept copy of the fields.
export interface AppConfig extends Readonly<Omit<RawConfig, keyof Derived> & Derived> {}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from './config.loader';

/**
 * A YAML file of the config folder beside default.yaml (pricing.yaml, guardrails.yaml…):
 * its parsed content, undefined when the file does not exist, a ConfigError naming the file
 * when it is not valid YAML. Validation against a schema is the reader's job.
 */
export function readConfigFile(configDir: string, name: string): unknown {
  const path = join(configDir, name);
  if (!existsSync(path)) return undefined;
  try {
    return parse(readFileSync(path, 'utf8')) ?? {};
  } catch (error) {
    throw new ConfigError(name, `is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

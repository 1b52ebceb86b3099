import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './spawned-process';

type Tree = Record<string, unknown>;

const merge = (a: Tree, b: Tree): Tree => {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? merge(prev as Tree, v as Tree)
        : v;
  }
  return out;
};

/**
 * A config folder with the repository's YAML, its test.yaml extended by `overlay`, for tests
 * that need settings only YAML can hold (several providers, aliases). Returns the env to use it.
 */
export function configWithOverlay(overlay: Tree): {
  env: Record<string, string>;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  cpSync(join(REPO_ROOT, 'config'), dir, { recursive: true });
  const base = parse(readFileSync(join(REPO_ROOT, 'config', 'test.yaml'), 'utf8')) as Tree;
  writeFileSync(join(dir, 'test.yaml'), stringify(merge(base, overlay)));
  return { env: { CONFIG_DIR: dir }, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

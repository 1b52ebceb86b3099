import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_BINDINGS } from '@parley/core';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('opens with exactly the two set-up commands', () => {
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(readme)![1]!;
    const commands = firstBlock
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('#')[0]!.trim());
    expect(commands).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('documents every environment variable the configuration reads, with its key', () => {
    for (const { env, path, secret } of ENV_BINDINGS) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${env}\``));
      expect({ env, row }).toEqual({ env, row: expect.stringContaining(`\`${path}\``) });
      if (secret) expect(row).toContain('🔒');
    }
  });

  it('documents every key of config/default.yaml', () => {
    const keys: string[] = [];
    const walk = (node: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(node)) {
        const path = prefix ? `${prefix}.${k}` : k;
        if (v && typeof v === 'object' && !Array.isArray(v))
          walk(v as Record<string, unknown>, path);
        else keys.push(path);
      }
    };
    walk(parse(readFileSync(join(ROOT, 'config', 'default.yaml'), 'utf8')), '');
    expect(keys.length).toBeGreaterThan(20);
    // A key counts as documented when it, or the group it belongs to (rateLimit.auth), is.
    const documented = (key: string) =>
      key
        .split('.')
        .some((_, i, parts) => readme.includes(`\`${parts.slice(0, i + 1).join('.')}\``) && i > 0);
    for (const key of keys.filter((k) => k !== 'app.name'))
      expect({ key, documented: documented(key) }).toEqual({ key, documented: true });
  });
});

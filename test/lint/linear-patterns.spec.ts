import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Lints one snippet as if it were a file of a lib, with the project's configuration. */
function lint(code: string): string {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'),
      '--stdin',
      '--stdin-filename',
      join(ROOT, 'libs', 'core', 'src', 'snippet.ts'),
      '--format',
      'json',
    ],
    { cwd: ROOT, input: code, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const [report] = JSON.parse(result.stdout) as { messages: { ruleId: string }[] }[];
  return report!.messages.map((m) => m.ruleId).join(' ');
}

describe('patterns that backtrack super-linearly fail lint', () => {
  it('reports the e-mail pattern that froze the event loop (quadratic on "@" + letters)', () => {
    expect(lint('export const EMAIL = /[\\w.%+-]+@[\\w.-]+\\.[A-Za-z]{2,}/g;\n')).toContain(
      'regexp/no-super-linear-move',
    );
  });

  it('reports quantifiers that compete for the same characters', () => {
    expect(lint('export const RULE = /ignore\\s+(?:all|the|\\s)*rules/i;\n')).toContain(
      'regexp/no-super-linear-backtracking',
    );
  });

  it('accepts the linear form of the same patterns', () => {
    expect(
      lint(
        'export const EMAIL = /(?<![\\w.%+-])[\\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63}){0,8}\\.[A-Za-z]{2,24}(?![A-Za-z])/g;\n',
      ),
    ).toBe('');
  });
});

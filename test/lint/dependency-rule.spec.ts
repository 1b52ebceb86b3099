import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'dependency-rule');

/** Runs dependency-cruiser with the project's rules over a tree of deliberate violations. */
function cruiseFixture(): { status: number | null; output: string } {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs'),
      'libs',
      '--config',
      join(ROOT, '.dependency-cruiser.cjs'),
      '--no-progress',
      '--output-type',
      'err',
    ],
    { cwd: FIXTURE, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the dependency rule of design.md fails lint', () => {
  const { status, output } = cruiseFixture();

  it('exits non-zero on violations', () => {
    expect(status).not.toBe(0);
  });

  it('catches a deep import into another lib', () => {
    expect(output).toMatch(
      /lib-public-surface: libs\/cost\/src\/deep\.ts → libs\/auth\/src\/internal\.ts/,
    );
  });

  it('catches a platform lib importing one above it', () => {
    expect(output).toMatch(
      /layers-core: libs\/core\/src\/bad-upward\.ts → libs\/queue\/src\/queue\.service\.ts/,
    );
  });

  it('catches a feature lib importing against the arrows', () => {
    expect(output).toMatch(/layers-auth: libs\/auth\/src\/upward\.ts → libs\/cost\/src\/index\.ts/);
  });

  it('lets an allowed import through its public surface pass', () => {
    expect(output).not.toMatch(/libs\/cost\/src\/index\.ts → libs\/auth\/src\/index\.ts/);
  });
});

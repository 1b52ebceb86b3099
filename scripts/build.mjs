// Compiles TypeScript to CommonJS in dist/ with swc (path aliases rewritten to relative
// requires). Type-checking is `npm run typecheck`; this step only emits, so it stays fast.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const swc = spawnSync(
  process.execPath,
  [
    'node_modules/@swc/cli/bin/swc.js',
    'apps',
    'libs',
    'migrations',
    'test/support',
    '-d',
    'dist',
    '--config-file',
    '.swcrc',
    '--copy-files',
    '--quiet',
    '--ignore',
    '**/*.spec.ts',
  ],
  { stdio: 'inherit' },
);
process.exit(swc.status ?? 1);

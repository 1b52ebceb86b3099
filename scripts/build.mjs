// Compiles TypeScript to CommonJS in dist/ with swc (path aliases rewritten to relative
// requires), then builds the admin console (apps/console, React + Vite) into dist/console.
// Type-checking is `npm run typecheck`; this step only emits, so it stays fast.
//   node scripts/build.mjs [--console-only]   (--console-only: the console alone, dist/ kept)
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const consoleOnly = process.argv.includes('--console-only');

if (!consoleOnly) {
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
      '**/*.spec.ts,apps/console/**',
    ],
    { stdio: 'inherit' },
  );
  if (swc.status !== 0) process.exit(swc.status ?? 1);
}

// The console: Vite's build API with apps/console/vite.config.mts (base /console/, output
// dist/console, which the api serves).
const { build } = await import('vite');
try {
  await build({ configFile: 'apps/console/vite.config.mts', logLevel: 'warn' });
} catch (error) {
  console.error(`the console build failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}

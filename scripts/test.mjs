// Runs Jest (which needs --experimental-vm-modules to load the ESM-only NestJS 12 packages from
// CommonJS), then prints what was skipped and why, and a closing line CI can read:
// "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { node24, rerunUnder } from './node24.mjs';

// Jest needs Node 24 for NestJS 12's ESM packages: on an older Node, run again under Node 24.
const binary = node24();
if (binary) {
  rerunUnder(binary);
  await new Promise(() => {}); // the rerun exits this process
}

const work = mkdtempSync(join(tmpdir(), 'parley-test-'));
const results = join(work, 'results.json');
const skipLog = join(work, 'skipped.log');
const mode = process.env.DATABASE_URL ? 'services' : 'embedded';
console.log(`Running tests in ${mode} mode${process.env.REDIS_URL ? ' with Redis' : ''}`);

const jest = spawnSync(
  process.execPath,
  ['node_modules/jest/bin/jest.js', '--json', `--outputFile=${results}`, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_OPTIONS:
        `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim(),
      PARLEY_SKIP_LOG: skipLog,
    },
  },
);

if (existsSync(skipLog)) {
  const reasons = [...new Set(readFileSync(skipLog, 'utf8').split('\n').filter(Boolean))];
  if (reasons.length > 0) {
    console.log('\nSkipped on this machine, and why:');
    for (const reason of reasons) console.log(`  - ${reason}`);
  }
}
let code = jest.status ?? 1;
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A suite that crashed before its tests ran counts as one failure, so it is never silent.
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  // Where the time goes: the slowest files (two run at a time, so these overlap).
  const slowest = r.testResults
    .map((t) => ({
      seconds: (t.endTime - t.startTime) / 1000,
      file: relative(process.cwd(), t.name),
    }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 10);
  if (slowest.length > 0) {
    console.log('\nslowest files:');
    for (const { seconds, file } of slowest)
      console.log(`  ${seconds.toFixed(1).padStart(6)} s  ${file}`);
  }
  console.log(`\ntests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) code = 1;
} else {
  console.log('\ntests: 0 passed, 1 failed (jest produced no results)');
  code = code || 1;
}
rmSync(work, { recursive: true, force: true });
process.exit(code);

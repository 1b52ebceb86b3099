// Runs every benchmark in test/bench, one after another.
//   node scripts/bench.mjs [args…]   builds first (npm run build), then runs each bench with the
//                                    arguments, its output (JSON or a table) as it comes; stops
//                                    at the first that fails.
//   node scripts/bench.mjs --quick   the smoke test CI runs: no build (it uses dist/ as it is),
//                                    each bench in its --quick mode (small sizes, nothing timed
//                                    is asserted), one line per bench with its status and
//                                    duration, the output of any that failed, and a non-zero
//                                    exit code if one did. Services mode runs where
//                                    DATABASE_URL (and REDIS_URL) are set.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** A bench that runs longer than this in quick mode is stopped and counted as failed. */
const QUICK_TIMEOUT_MS = 5 * 60_000;
const args = process.argv.slice(2);
let interrupted = false;
const benches = readdirSync('test/bench')
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort();

if (args.includes('--quick')) process.exit(await quick());

const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
for (const file of benches) {
  console.log(`# ${file}`);
  const run = spawnSync(process.execPath, [`test/bench/${file}`, ...args], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

async function quick() {
  if (!existsSync('dist/apps/api/src/main.js')) {
    console.error('bench --quick: dist/ is not built; run `npm run build` first');
    return 1;
  }
  const width = Math.max(...benches.map((f) => f.length));
  const t0 = performance.now();
  let failed = 0;
  for (const file of benches) {
    if (interrupted) break;
    const r = await runQuick(file);
    const seconds = `${(r.ms / 1000).toFixed(1).padStart(5)} s`;
    const skipped = /^skipped: (.*)$/m.exec(r.output)?.[1];
    const partly = [...r.output.matchAll(/^partly skipped: (.*)$/gm)].map((m) => m[1]);
    if (r.code === 0 && skipped) {
      console.log(`skipped  ${file.padEnd(width)}  ${seconds}  ${skipped}`);
    } else if (r.code === 0) {
      const note = partly.length ? `  (partly skipped: ${partly.join('; ')})` : '';
      console.log(`ok       ${file.padEnd(width)}  ${seconds}${note}`);
    } else {
      failed++;
      console.log(`FAILED   ${file.padEnd(width)}  ${seconds}  ${r.reason}`);
      const tail = r.output.trimEnd().split('\n').slice(-40);
      for (const line of tail) console.log(`    ${line}`);
    }
  }
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `${failed ? `${failed} of ${benches.length} benches failed` : `${benches.length} benches passed or skipped`} in ${total} s`,
  );
  return interrupted ? 130 : failed ? 1 : 0;
}

/**
 * One bench with --quick, its output captured, in a process group of its own: a timeout or
 * Ctrl-C reaches the servers it started too (SIGINT first, so that it can clean up).
 */
function runQuick(file) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [`test/bench/${file}`, '--quick'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const collect = (d) => (output = (output + d).slice(-1_000_000));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const signalGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let reason;
    let killTimer;
    const stop = (why) => {
      reason ??= why;
      signalGroup('SIGINT');
      killTimer ??= setTimeout(() => signalGroup('SIGKILL'), 15_000);
    };
    const timer = setTimeout(
      () => stop(`timed out after ${QUICK_TIMEOUT_MS / 1000} s`),
      QUICK_TIMEOUT_MS,
    );
    const onSignal = () => {
      interrupted = true;
      stop('interrupted');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let code;
    child.on('exit', (exitCode, signal) => {
      code = exitCode ?? 1;
      reason ??= signal ? `killed by ${signal}` : `exit code ${exitCode}`;
      clearTimeout(timer);
      // Whatever it left behind in its group (a server it did not stop) goes too, so that its
      // output pipes close.
      signalGroup('SIGKILL');
    });
    child.on('close', () => {
      clearTimeout(killTimer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve({ code, ms: performance.now() - t0, output, reason });
    });
  });
}

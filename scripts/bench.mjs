// Runs every benchmark in test/bench against the build (npm run build first). They print JSON.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
for (const file of readdirSync('test/bench')
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort()) {
  console.log(`# ${file}`);
  const run = spawnSync(process.execPath, [`test/bench/${file}`, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

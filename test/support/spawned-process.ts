import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

/** A Parley process started from the build in dist/, as `npm start` would run it. */
export interface SpawnedProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the port from the "listening on" / "health on" line. */
  listening: Promise<number>;
  /** Resolves with the exit code (or the signal name) once the process ends. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function spawnDist(script: string, env: NodeJS.ProcessEnv): SpawnedProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', script)], {
    cwd: REPO_ROOT,
    // The "listening on" line is logged at info, which the test config's level would hide.
    env: { LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(?:listening on|health on) http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`process exited (${code}) before listening:\n${output}`)),
    );
  });
  listening.catch(() => undefined);
  return {
    child,
    output: () => output,
    listening,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * JSON requests to a spawned process over real HTTP, as a caller with a bearer token; `raw` is
 * the body as sent back (for tests that inspect error bodies).
 */
export async function callJson(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: any; raw: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const raw = await res.text();
  let parsed: unknown;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, raw };
}

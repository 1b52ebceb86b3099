import { spawn } from 'node:child_process';
import { EngineFailedError, ProviderUnavailableError } from '../audio.errors';

/**
 * Runs a local engine (espeak-ng, pocketsphinx, ffmpeg) as a child process: arguments as an
 * array (no shell), optional bytes on stdin, stdout collected up to a cap, and a hard timeout.
 * A missing command is PROVIDER_UNAVAILABLE; a non-zero exit or a timeout is ENGINE_FAILED.
 */
export async function runProcess(
  command: string,
  args: string[],
  options: { input?: Buffer; timeoutMs: number; maxOutputBytes?: number; signal?: AbortSignal },
): Promise<{ stdout: Buffer; stderr: string }> {
  const max = options.maxOutputBytes ?? 256 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      signal: options.signal,
    });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) child.kill('SIGKILL');
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 16_384) stderr += chunk.toString('utf8');
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        reject(new ProviderUnavailableError(`The engine "${command}" is not installed here.`));
      else reject(new EngineFailedError(`${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr });
      const why =
        size > max
          ? `wrote more than ${max} bytes`
          : signal
            ? `stopped by ${signal} (timeout ${options.timeoutMs} ms)`
            : `exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`;
      reject(new EngineFailedError(`${command} ${why}`));
    });
    // An engine that exits before reading all of stdin is reported by its exit code.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

/** Whether a command can be started here (for the health details). */
export async function commandAvailable(command: string, versionArgs: string[]): Promise<boolean> {
  try {
    await runProcess(command, versionArgs, { timeoutMs: 5000, maxOutputBytes: 1024 * 1024 });
    return true;
  } catch (error) {
    return !(error instanceof ProviderUnavailableError);
  }
}

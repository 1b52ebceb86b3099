import { ConfigError, loadConfig } from '../config/config.loader';
import type { AppConfig } from '../config/app-config';

/** Loads the configuration, or prints the one-line reason and exits 1. */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Runs a process entry point; a failure during boot (a locked data directory, an unreachable
 * database) ends the process with exit code 1 and one readable line, not a stack dump.
 */
export async function runOrExit(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`Parley failed to start: ${message}\n`);
    process.exit(1);
  }
}

import type { INestApplication, LoggerService } from '@nestjs/common';
import { shutdownTelemetry } from '../telemetry/telemetry-sdk';

export interface GracefulShutdownOptions {
  timeoutMs: number;
  logger: LoggerService;
  /** For tests; defaults to the real process. */
  exit?: (code: number) => void;
}

/**
 * On SIGTERM or SIGINT: stop accepting connections, let in-flight requests finish, then close
 * queues and the database through Nest's shutdown hooks, flush the traces, and exit 0. If that takes longer than
 * the timeout, exit 1 so the orchestrator does not wait forever.
 *
 * Nest's own enableShutdownHooks() re-raises the signal after closing, which makes the exit
 * status 143 instead of 0, so Parley handles the signals itself.
 */
export function installGracefulShutdown(
  app: INestApplication,
  options: GracefulShutdownOptions,
): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    options.logger.log(`${signal} received: draining in-flight requests`, 'Shutdown');
    const timer = setTimeout(() => {
      options.logger.error(
        `shutdown took longer than ${options.timeoutMs} ms; exiting`,
        undefined,
        'Shutdown',
      );
      exit(1);
    }, options.timeoutMs);
    timer.unref();
    // Keep-alive connections that finish their last request while draining would otherwise
    // hold the server open until their idle timeout; close them as soon as they go idle.
    const server = app.getHttpServer() as {
      close?: (callback?: (error?: Error) => void) => void;
      closeIdleConnections?: () => void;
    };
    setInterval(() => server.closeIdleConnections?.(), 100).unref();
    // Stop taking connections now: Nest closes the server only after every module's destroy
    // hook, and those wait for the jobs in progress (a worker finishes its job first).
    server.close?.(() => undefined);
    app
      .close()
      // The spans of the last requests are exported before the process goes.
      .then(() => shutdownTelemetry())
      .then(() => {
        clearTimeout(timer);
        options.logger.log('shutdown complete', 'Shutdown');
        exit(0);
      })
      .catch((error: unknown) => {
        options.logger.error(`shutdown failed: ${(error as Error).message}`, undefined, 'Shutdown');
        exit(1);
      });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

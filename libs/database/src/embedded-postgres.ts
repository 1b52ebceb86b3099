import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { DataDirLockedError } from './database.errors';
import { serializeExtendedProtocol } from './pglite-protocol-queue';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** How long to wait for a lock left by a crashed process to go stale. */
  lockWaitMs: number;
  /** Concurrent client connections the socket server multiplexes onto PGlite's one session. */
  maxConnections?: number;
  /**
   * PostgreSQL's buffer cache (`128MB`, `1GB`). PGlite reads pages through the WASM file
   * system, so a knowledge base whose vectors and index outgrow it is searched from disk.
   */
  sharedBuffers?: string;
}

const LOCK_STALE_MS = 10_000;

/**
 * PGlite (Postgres in WASM, with pgvector) served on a loopback port, so TypeORM, BullMQ and
 * anything else connect with `pg` exactly as they would to a real server. The data directory
 * is locked for the life of the process: PGlite has no locking of its own and two writers
 * would corrupt it.
 */
export class EmbeddedPostgres {
  private constructor(
    readonly url: string,
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    private readonly releaseLock: () => Promise<void>,
  ) {}

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    mkdirSync(options.dataDir, { recursive: true });
    const releaseLock = await lockDataDir(options.dataDir, options.lockWaitMs);
    try {
      const db = await PGlite.create({
        dataDir: options.dataDir,
        extensions: { vector },
        ...(options.sharedBuffers
          ? { postgresqlconf: [`shared_buffers = '${options.sharedBuffers}'`] }
          : {}),
      });
      const server = new PGLiteSocketServer({
        db,
        host: '127.0.0.1',
        port: 0,
        maxConnections: options.maxConnections ?? 100,
      });
      serializeExtendedProtocol(server);
      await server.start();
      const url = `postgres://postgres@${server.getServerConn()}/postgres`;
      return new EmbeddedPostgres(url, db, server, releaseLock);
    } catch (error) {
      await releaseLock();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
    await this.releaseLock();
  }
}

async function lockDataDir(dataDir: string, lockWaitMs: number): Promise<() => Promise<void>> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const retries = Math.ceil(lockWaitMs / 1000);
  try {
    const release = await lockfile.lock(dataDir, {
      lockfilePath: `${dataDir}.lock`,
      stale: LOCK_STALE_MS,
      update: LOCK_STALE_MS / 2,
      retries: retries > 0 ? { retries, minTimeout: 1000, maxTimeout: 1000, factor: 1 } : 0,
      realpath: false,
      // A lock lost while running (the disk went away, someone deleted it) is fatal for data.
      onCompromised: (error) => {
        throw error;
      },
    });
    return release;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') throw new DataDirLockedError(dataDir);
    throw error;
  }
}

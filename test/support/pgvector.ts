import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from './spawned-process';

let known: boolean | undefined;

/**
 * Whether the test database can load pgvector: always in embedded mode (PGlite ships it); in
 * services mode, asked of the server. Synchronous, because Jest decides what to skip while it
 * collects the suites.
 */
export function pgvectorAvailable(): boolean {
  if (!process.env.DATABASE_URL) return true;
  known ??=
    execFileSync(
      process.execPath,
      [
        '-e',
        `const { Client } = require('pg');
         const c = new Client({ connectionString: process.env.DATABASE_URL });
         c.connect()
           .then(() => c.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))
           .then((r) => { console.log(r.rowCount); return c.end(); })
           .catch(() => console.log(0));`,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', env: process.env },
    ).trim() !== '0';
  return known;
}

export const NO_PGVECTOR_REASON =
  'the services-mode PostgreSQL has no pgvector extension: build it with `sudo scripts/install-pgvector.sh` (.ci/run does)';

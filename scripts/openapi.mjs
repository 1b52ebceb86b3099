// `npm run openapi`: writes docs/openapi.json, the OpenAPI document the api serves at
// /docs/openapi.json, pretty-printed (Prettier's JSON style) so that it reads well in review.
// It boots the built api (`npm run build` first; the npm script does) in embedded mode on a
// throwaway database and asks it for the document, so the file is exactly what is served; the
// same code gives the same file. test/e2e/openapi.e2e-spec.ts fails when they differ.
//   node scripts/openapi.mjs [--check]   (--check writes nothing and fails when out of date)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { node24, rerunUnder } from './node24.mjs';

// NestJS 12 is ESM-only, which the CommonJS build loads through require(esm): Node 24.
const binary = node24();
if (binary) {
  rerunUnder(binary);
  await new Promise(() => {}); // the rerun exits this process
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs', 'openapi.json');
const check = process.argv.includes('--check');

/** The document as committed: JSON in Prettier's style, ending in a newline. */
async function formatDocument(document) {
  const options = (await prettier.resolveConfig(OUT)) ?? {};
  return prettier.format(JSON.stringify(document), { ...options, parser: 'json' });
}

async function servedDocument() {
  const require = createRequire(import.meta.url);
  const dist = (path) => join(ROOT, 'dist', path);
  let core, bootstrap;
  try {
    core = require(dist('libs/core/src/index.js'));
    bootstrap = require(dist('apps/api/src/bootstrap.js'));
  } catch (error) {
    throw new Error(`cannot load the built api (run \`npm run build\`): ${error.message}`, {
      cause: error,
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-openapi-'));
  // Embedded mode on an empty directory, whatever this shell points at; the document does not
  // depend on the environment, only on the code.
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    APP_ENV: 'test',
    PGLITE_DATA_DIR: join(dir, 'pglite'),
    DOCS_ENABLED: 'true',
    LOG_LEVEL: 'error',
    BOOTSTRAP_ADMIN_PASSWORD: 'openapi-generation-only',
    JWT_SIGNING_KEYS: 'openapi:openapi-generation-only-signing-key-0123456789',
    API_KEY_PEPPER: 'openapi-generation-only-pepper-0123456789',
  };
  let app;
  try {
    const config = core.loadConfig({ env, configDir: join(ROOT, 'config'), isTty: false });
    app = await bootstrap.createApiApp(config);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const res = await app.inject({ method: 'GET', url: '/docs/openapi.json' });
    if (res.statusCode !== 200)
      throw new Error(`GET /docs/openapi.json answered ${res.statusCode}: ${res.body}`);
    return res.json();
  } finally {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const text = await formatDocument(await servedDocument());
let current = '';
try {
  current = readFileSync(OUT, 'utf8');
} catch {
  // not written yet
}
if (check) {
  if (current !== text) {
    console.error(`${OUT} is out of date: run \`npm run openapi\` and commit it`);
    process.exit(1);
  }
  console.log(`${OUT} is up to date`);
} else {
  writeFileSync(OUT, text);
  console.log(`${OUT}: ${current === text ? 'unchanged' : 'written'}`);
}
process.exit(0);

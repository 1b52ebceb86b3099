// `npm start` / `npm run start:worker`: the built app, on Node 24 (provisioned when this Node is
// older, see node24.mjs). Usage: node scripts/start.mjs dist/apps/api/src/main.js
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { node24, rerunUnder } from './node24.mjs';

const binary = node24();
if (binary) rerunUnder(binary);
else {
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(resolve(process.argv[2])).href);
}

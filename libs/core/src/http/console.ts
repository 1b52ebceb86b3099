import fastifyStatic from '@fastify/static';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { NotFoundError } from '../errors/core.errors';
import { sendProblem } from '../errors/problem.filter';

/** Where the admin console is served, and where `npm run build` puts it. */
export const CONSOLE_PATH = '/console';
export const CONSOLE_DIST_DIR = join('dist', 'console');
/**
 * What Vite writes in index.html where the per-response CSP nonce goes (its `html.cspNonce`):
 * on the `<meta property="csp-nonce">` the console reads to give Mantine's `<style>` tags.
 */
export const CONSOLE_NONCE_PLACEHOLDER = 'PARLEY_CSP_NONCE';

/**
 * Serves the console built into `dist/console` at /console: hashed assets with a year-long
 * immutable cache, and index.html (never cached) for /console and every deep link under it, so
 * the single-page app's router takes over. The CSP stays strict: index.html gets a fresh nonce
 * in `style-src` for the `<style>` tags Mantine writes, and nothing else is relaxed.
 * Without a built console (tests from sources) it logs once and serves nothing.
 */
export async function serveConsole(
  app: NestFastifyApplication,
  config: AppConfig,
  dir = resolve(process.cwd(), CONSOLE_DIST_DIR),
): Promise<boolean> {
  if (!config.console.enabled) return false;
  const logger = new Logger('Console');
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    logger.warn(
      `the admin console is not built (${indexFile} is missing), so ${CONSOLE_PATH} is not served: run npm run build`,
    );
    return false;
  }
  const template = readFileSync(indexFile, 'utf8');
  const fastify = app.getHttpAdapter().getInstance();
  const assets = join(dir, 'assets');
  if (existsSync(assets)) {
    await app.register(fastifyStatic as never, {
      root: assets,
      prefix: `${CONSOLE_PATH}/assets/`,
      // One route per built file: anything else under /console/assets is a problem+json 404
      // from the fallback below, never index.html.
      wildcard: false,
      decorateReply: false,
      index: false,
      // File names carry a content hash: cached for a year, never revalidated.
      maxAge: '365d',
      immutable: true,
    });
  }

  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    if (path.startsWith(`${CONSOLE_PATH}/assets/`))
      return sendProblem(request, reply, new NotFoundError('This console file'));
    const nonce = randomBytes(18).toString('base64');
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string')
      reply.header('content-security-policy', withStyleNonce(csp, nonce));
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(template.replaceAll(CONSOLE_NONCE_PLACEHOLDER, nonce));
  };
  fastify.get(CONSOLE_PATH, sendIndex);
  fastify.get(`${CONSOLE_PATH}/*`, sendIndex);
  logger.log(`admin console at ${CONSOLE_PATH}`);
  return true;
}

/** Adds `'nonce-…'` to the policy's style-src (or to a new one, copied from default-src). */
export function withStyleNonce(policy: string, nonce: string): string {
  const directives = policy
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
  const source = `'nonce-${nonce}'`;
  const at = directives.findIndex((d) => d.split(/\s+/)[0] === 'style-src');
  if (at >= 0) directives[at] = `${directives[at]} ${source}`;
  else {
    const fallback = directives.find((d) => d.split(/\s+/)[0] === 'default-src');
    directives.push(
      `style-src ${fallback ? fallback.slice('default-src'.length).trim() : ''} ${source}`,
    );
  }
  return directives.join(';');
}

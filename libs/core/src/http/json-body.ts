import type { FastifyInstance, FastifyRequest } from 'fastify';
import { JsonTooDeepError } from '../errors/core.errors';

/**
 * How deeply a JSON body may nest objects and arrays: far more than any request Parley takes
 * (a tool's JSON Schema included), far less than what recursive code on the way (class-transformer,
 * class-validator, PostgreSQL's jsonb input) survives.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests objects and arrays more than `max` levels deep, in one pass over its
 * bytes (brackets inside strings do not count). Works on UTF-8 bytes as on text: every byte of
 * a multi-byte character is ≥ 0x80.
 */
export function jsonNestsDeeperThan(json: Buffer | string, max = MAX_JSON_DEPTH): boolean {
  const text = typeof json === 'string' ? Buffer.from(json) : json;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      // A backslash escapes the byte after it.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * The application/json body parser: Fastify's own (prototype poisoning refused), after a check
 * that the body does not nest too deeply: 10,000 levels took class-transformer seconds of CPU
 * to overflow its stack (a 500).
 */
export function jsonBodyParser(fastify: FastifyInstance) {
  type Done = (error: Error | null, body?: unknown) => void;
  type Parser = (request: FastifyRequest, body: Buffer, done: Done) => void;
  // Typed for text, but Fastify's parser takes the bytes as well.
  const parse = fastify.getDefaultJsonParser('error', 'error') as unknown as Parser;
  const parser: Parser = (request, body, done) => {
    if (jsonNestsDeeperThan(body)) done(new JsonTooDeepError(MAX_JSON_DEPTH), undefined);
    else parse(request, body, done);
  };
  return parser;
}

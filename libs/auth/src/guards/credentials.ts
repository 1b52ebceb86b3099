import { API_KEY_PREFIX } from '../auth.constants';

export type Credential = { kind: 'jwt'; token: string } | { kind: 'apiKey'; key: string };

type Headers = Record<string, string | string[] | undefined>;

/**
 * Reads the credential from `Authorization: Bearer …` or `X-API-Key: …`. A bearer value that
 * starts with the API-key prefix is an API key. Query strings are never read.
 */
export function readCredential(headers: Headers): Credential | undefined {
  const apiKey = single(headers['x-api-key']);
  if (apiKey) return { kind: 'apiKey', key: apiKey.trim() };
  const authorization = single(headers.authorization);
  const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (!bearer) return undefined;
  return bearer.startsWith(API_KEY_PREFIX)
    ? { kind: 'apiKey', key: bearer }
    : { kind: 'jwt', token: bearer };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

import { OutboundRequestFailedError } from '../tools.errors';

/** One request of an exchange: the first, or one made to follow a redirect. */
export interface Hop {
  method: string;
  url: URL;
  /** Lowercase names. */
  headers: Record<string, string>;
  body?: string;
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Describe the body; meaningless once the body is dropped (Fetch's "request-body-header"). */
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location'];
/** Credentials meant for one origin; Fetch drops Authorization on a cross-origin redirect too. */
const ORIGIN_CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

/** The hostname without IPv6 brackets, as sockets and the policy want it. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * The request that follows a redirect, with the browsers' (Fetch standard) method rules:
 * 303 turns anything but HEAD into a GET, 301/302 turn a POST into a GET (both drop the body);
 * 307/308 and 301/302 of other methods repeat the request as it was. The new host is checked
 * against the policy by the caller, like the first one.
 */
export function nextHop(hop: Hop, status: number, location: string): Hop {
  const from = bareHost(hop.url);
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch (error) {
    throw new OutboundRequestFailedError(from, 'it redirected to an invalid URL', error);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundRequestFailedError(from, 'it redirected to a URL that is not http or https');
  }
  if (url.username || url.password) {
    throw new OutboundRequestFailedError(from, 'it redirected to a URL that contains credentials');
  }
  // Following would send the tool's headers and body in clear text, readable on the way.
  if (hop.url.protocol === 'https:' && url.protocol === 'http:') {
    throw new OutboundRequestFailedError(from, 'it redirected from https to plain http');
  }

  const toGet = status === 303 || ((status === 301 || status === 302) && hop.method === 'POST');
  const headers = { ...hop.headers };
  if (toGet) for (const name of BODY_HEADERS) delete headers[name];
  if (url.origin !== hop.url.origin) {
    for (const name of ORIGIN_CREDENTIAL_HEADERS) delete headers[name];
  }
  return {
    method: toGet && hop.method !== 'HEAD' ? 'GET' : hop.method,
    url,
    headers,
    body: toGet ? undefined : hop.body,
  };
}

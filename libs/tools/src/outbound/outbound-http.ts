import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { AppError } from '@parley/core';
import {
  OutboundAddressRefusedError,
  OutboundRequestFailedError,
  OutboundRequestInvalidError,
  OutboundResponseTooLargeError,
  OutboundTimeoutError,
} from '../tools.errors';
import { checkedLookup, type Resolve, systemResolve } from './checked-lookup';
import { addressAllowed, checkHostAllowed, type OutboundPolicy } from './outbound-policy';
import { bareHost, type Hop, nextHop, REDIRECT_STATUSES } from './redirect';

export interface OutboundRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Bounds the whole exchange: DNS, connects, redirects and reading the body. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** Redirects followed before the call fails; default 3. */
  maxRedirects?: number;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  /** Lowercase names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Decoded as UTF-8. */
  body: string;
  /** The URL that answered, after redirects. */
  url: string;
}

/** Seams for tests; production passes nothing. */
export interface OutboundDeps {
  /** Replaces DNS; its answers go through the same address check as real ones. */
  resolve?: Resolve;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Set by Parley per hop (host, framing) or never wanted from a tool (upgrades, proxies). */
const DROPPED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
  'proxy-authorization',
  'accept-encoding',
]);

/**
 * Makes a tenant tool's HTTP call within its policy: http(s) only, no credentials in URLs, every
 * host (first and each redirect) on the allowlist, every address connected to public unless the
 * policy allows private networks, redirects followed by hand, https never downgraded, the whole
 * exchange bounded in time and the body in size. Rejects with `signal.reason` when `signal`
 * aborts, as fetch does.
 */
export async function outboundRequest(
  request: OutboundRequest,
  policy: OutboundPolicy,
  deps: OutboundDeps = {},
): Promise<OutboundResponse> {
  checkLimits(request);
  const maxRedirects = request.maxRedirects ?? 3;
  let hop: Hop = {
    method: checkMethod(request.method),
    url: parseUrl(request.url),
    headers: outgoingHeaders(request.headers ?? {}),
    body: request.body,
  };
  request.signal?.throwIfAborted();

  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new OutboundTimeoutError(request.timeoutMs)),
    request.timeoutMs,
  );
  const onAbort = () => controller.abort(request.signal!.reason);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const lookup = checkedLookup(deps.resolve ?? systemResolve, policy);

  try {
    for (let redirects = 0; ; redirects++) {
      checkTarget(hop.url, policy);
      const { req, res } = await send(hop, lookup, controller.signal);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        // A redirect's body is never read: closing the socket is cheaper and bounded.
        req.destroy();
        if (redirects >= maxRedirects) {
          throw new OutboundRequestFailedError(
            bareHost(hop.url),
            `it redirected more than ${maxRedirects} times`,
          );
        }
        hop = nextHop(hop, status, location);
        continue;
      }
      const body = await readBody(req, res, request.maxResponseBytes, bareHost(hop.url));
      return { status, headers: flattenHeaders(res.headers), body, url: hop.url.href };
    }
  } catch (error) {
    // Whatever broke once the deadline or the caller aborted is a consequence of that.
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
}

function checkLimits(request: OutboundRequest): void {
  const positive = (value: number | undefined) => Number.isFinite(value) && value! > 0;
  if (!positive(request.timeoutMs)) throw new RangeError('timeoutMs must be a positive number');
  if (!Number.isInteger(request.maxResponseBytes) || request.maxResponseBytes < 0) {
    throw new RangeError('maxResponseBytes must be a non-negative integer');
  }
  const { maxRedirects } = request;
  if (maxRedirects !== undefined && (!Number.isInteger(maxRedirects) || maxRedirects < 0)) {
    throw new RangeError('maxRedirects must be a non-negative integer');
  }
}

function checkMethod(method: string): string {
  const upper = method.toUpperCase();
  // CONNECT and TRACE would turn the call into a tunnel or an echo; tools need neither.
  if (!METHODS.has(upper)) {
    throw new OutboundRequestInvalidError(`the method must be one of ${[...METHODS].join(', ')}`);
  }
  return upper;
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRequestInvalidError('the URL is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundRequestInvalidError('the URL must start with http:// or https://');
  }
  if (url.username || url.password) {
    throw new OutboundRequestInvalidError(
      'the URL contains credentials (user:password@); send them in a header instead',
    );
  }
  return url;
}

function outgoingHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!DROPPED_HEADERS.has(lower)) out[lower] = value;
  }
  // The body is read as text up to a byte limit; compressed bytes would defeat both.
  out['accept-encoding'] = 'identity';
  return out;
}

/** The policy's checks that need no DNS: the allowlist, and an address written in the URL. */
function checkTarget(url: URL, policy: OutboundPolicy): void {
  const host = bareHost(url);
  checkHostAllowed(host, policy.allowedHosts);
  // Node skips `lookup` for IP literals, so they are checked here instead.
  if (isIP(host) && !addressAllowed(host, policy)) {
    throw new OutboundAddressRefusedError(host, true);
  }
}

function send(
  hop: Hop,
  lookup: ReturnType<typeof checkedLookup>,
  signal: AbortSignal,
): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  const host = bareHost(hop.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...hop.headers };
    if (hop.body !== undefined) headers['content-length'] = String(Buffer.byteLength(hop.body));
    let req: ClientRequest;
    try {
      req = (hop.url.protocol === 'https:' ? httpsRequest : httpRequest)({
        hostname: host,
        port: hop.url.port || undefined,
        path: `${hop.url.pathname}${hop.url.search}`,
        method: hop.method,
        headers,
        lookup,
        // A fresh agent per hop: no pooled socket, so every request connects through the
        // checked lookup, and no socket opened under one tenant's policy serves another's.
        agent: false,
        signal,
      });
    } catch (error) {
      return reject(requestError(error, host));
    }
    // Kept for the request's life: errors after the response (a destroy) must not go unhandled.
    req.on('error', (error) => reject(requestError(error, host)));
    req.once('response', (res) => resolve({ req, res }));
    req.end(hop.body);
  });
}

async function readBody(
  req: ClientRequest,
  res: IncomingMessage,
  limit: number,
  host: string,
): Promise<string> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.destroy();
    throw new OutboundResponseTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        req.destroy();
        throw new OutboundResponseTooLargeError(limit);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw error instanceof AppError ? error : requestError(error, host);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Our own errors pass through; Node's become a stable code with a message free of secrets. */
function requestError(error: unknown, host: string): AppError {
  if (error instanceof AppError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN') {
    return new OutboundRequestInvalidError(
      'a header name or value contains characters HTTP does not allow',
    );
  }
  return new OutboundRequestFailedError(host, describe(code), error);
}

function describe(code: string): string {
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') {
    return 'its host name could not be resolved';
  }
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE') {
    return 'the connection closed before a complete response arrived';
  }
  if (code === 'ETIMEDOUT' || code === 'ENETUNREACH' || code === 'EHOSTUNREACH') {
    return 'the host could not be reached';
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return 'its TLS certificate could not be verified or the TLS handshake failed';
  }
  if (code.startsWith('HPE_')) {
    return 'it did not answer with valid HTTP';
  }
  return 'the connection failed';
}

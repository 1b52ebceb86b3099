import { ToolPathArgumentError } from '../tools.errors';
import { URL_PLACEHOLDER } from './tool-schema';

/*
 * A tool's URL template may name arguments in its path, and the path must stay the one the
 * admin wrote: no "." or ".." segment (also percent-encoded: %2e, %2E), which URL parsers and
 * servers resolve to another path, and no backslash, which URL parsers and some servers read as
 * a slash. The literal path is checked when a tool is saved; the path with the arguments in it
 * on every call, before anything is sent.
 */

/** Dropped by URL parsers wherever they stand (WHATWG URL): `.\t.` is `..` to them. */
const TAB_OR_NEWLINE = /[\t\n\r]/g;
const ENCODED_DOT = /%2e/gi;
/** What a server may decode into a dot or a path separator, `%25` included (double encoding). */
const ENCODED_SEPARATOR = /%(?:2e|2f|5c|25)/gi;
const DECODED: Record<string, string> = { '%2e': '.', '%2f': '/', '%5c': '\\', '%25': '%' };
/** Decoding rounds past which a value is refused rather than decoded further. */
const MAX_DECODING_ROUNDS = 8;

/** Where the path of an absolute URL (template) starts and ends: after the authority, before `?`/`#`. */
function pathRange(url: string): { start: number; end: number } {
  const scheme = url.indexOf('://');
  let start = scheme < 0 ? 0 : scheme + 3;
  while (start < url.length && !'/\\?#'.includes(url[start]!)) start++;
  let end = start;
  while (end < url.length && url[end] !== '?' && url[end] !== '#') end++;
  return { start, end };
}

const isDotSegment = (segment: string): boolean => {
  const decoded = segment.replace(ENCODED_DOT, '.');
  return decoded === '.' || decoded === '..';
};

/**
 * What is wrong with the literal path of a URL template (a dot segment or a backslash), or
 * undefined. Placeholders are checked with their values at call time.
 */
export function templatePathProblem(template: string): string | undefined {
  const url = template.replace(TAB_OR_NEWLINE, '');
  const { start, end } = pathRange(url);
  const path = url.slice(start, end);
  if (path.includes('\\')) return 'the path of http.url must not contain backslashes';
  for (const segment of path.split('/'))
    if (!segment.includes('{') && isDotSegment(segment))
      return 'the path of http.url must not contain "." or ".." segments (nor %2e, %2E)';
  return undefined;
}

/**
 * A value as a server might see it after decoding it (once or several times): undefined when it
 * stays encoded deeper than any server decodes, which is refused like a separator.
 */
function decodedForServers(value: string): string | undefined {
  let current = value;
  for (let round = 0; round < MAX_DECODING_ROUNDS; round++) {
    const next = current.replace(ENCODED_SEPARATOR, (m) => DECODED[m.toLowerCase()]!);
    if (next === current) return current;
    current = next;
  }
  return undefined;
}

const text = (value: unknown): string =>
  value === undefined || value === null ? '' : String(value);

/**
 * Fills a tool's URL template with (URL-encoded) arguments. An argument in the path must stay one
 * segment of it: a value holding a slash or backslash (also percent-encoded, or encoded twice),
 * or one that makes its segment "." or "..", is refused with ToolPathArgumentError and nothing
 * is sent. Returns the URL and the names of the arguments it used.
 */
export function fillUrlTemplate(
  template: string,
  args: Record<string, unknown>,
): { url: string; used: Set<string> } {
  const used = new Set<string>();
  const { start, end } = pathRange(template);
  const path = template.slice(start, end);
  const segments = path.split('/').map((segment) => {
    if (!segment.includes('{')) return segment;
    const names: string[] = [];
    // The segment as a server sees it once decoded: it must not be a dot segment.
    let seen = segment.replace(TAB_OR_NEWLINE, '');
    seen = seen.replace(URL_PLACEHOLDER, (_, name: string) => {
      names.push(name);
      const decoded = decodedForServers(text(args[name]));
      if (decoded === undefined || decoded.includes('/') || decoded.includes('\\'))
        throw new ToolPathArgumentError(name);
      return decoded;
    });
    if (isDotSegment(seen)) throw new ToolPathArgumentError(names.join('", "'));
    return segment.replace(URL_PLACEHOLDER, (_, name: string) => {
      used.add(name);
      return encodeURIComponent(text(args[name]));
    });
  });
  const rest = template.slice(end).replace(URL_PLACEHOLDER, (_, name: string) => {
    used.add(name);
    return encodeURIComponent(text(args[name]));
  });
  return { url: template.slice(0, start) + segments.join('/') + rest, used };
}

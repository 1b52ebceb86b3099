import type { HttpToolSettings } from '../registry/tools.service';
import { fillUrlTemplate, templatePathProblem } from '../registry/url-template';
import { OutboundRequestInvalidError } from '../tools.errors';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The HTTP request a tool call makes: placeholders in the URL filled with URL-encoded
 * arguments; the other arguments as a JSON body (POST, PUT, PATCH) or as query parameters (GET,
 * DELETE). Arguments were checked against the tool's schema before this; an argument that would
 * change the URL's path (a dot segment, a slash) throws ToolPathArgumentError.
 */
export function buildHttpCall(
  http: HttpToolSettings,
  args: Record<string, unknown>,
): { method: string; url: string; body?: string; headers: Record<string, string> } {
  // A tool saved before dot segments were refused at definition time is refused here.
  if (templatePathProblem(http.url))
    throw new OutboundRequestInvalidError(
      'the path of its URL has a "." or ".." segment or a backslash; an admin must correct the tool',
    );
  const { url: filled, used } = fillUrlTemplate(http.url, args);
  const url = new URL(filled);
  const rest = Object.entries(args).filter(([name]) => !used.has(name));
  const headers: Record<string, string> = { accept: 'application/json', ...http.headers };
  if (WITH_BODY.has(http.method)) {
    headers['content-type'] = 'application/json';
    return {
      method: http.method,
      url: url.toString(),
      headers,
      body: JSON.stringify(Object.fromEntries(rest)),
    };
  }
  for (const [name, value] of rest)
    url.searchParams.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  return { method: http.method, url: url.toString(), headers };
}

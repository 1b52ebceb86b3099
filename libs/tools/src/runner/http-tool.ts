import { URL_PLACEHOLDER } from '../registry/tool-schema';
import type { HttpToolSettings } from '../registry/tools.service';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The HTTP request a tool call makes: placeholders in the URL filled with URL-encoded
 * arguments; the other arguments as a JSON body (POST, PUT, PATCH) or as query parameters (GET,
 * DELETE). Arguments were checked against the tool's schema before this.
 */
export function buildHttpCall(
  http: HttpToolSettings,
  args: Record<string, unknown>,
): { method: string; url: string; body?: string; headers: Record<string, string> } {
  const used = new Set<string>();
  const filled = http.url.replace(URL_PLACEHOLDER, (_, name: string) => {
    used.add(name);
    const value = args[name];
    return encodeURIComponent(value === undefined || value === null ? '' : String(value));
  });
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

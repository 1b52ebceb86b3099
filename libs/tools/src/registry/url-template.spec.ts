import { buildHttpCall } from '../runner/http-tool';
import { ToolPathArgumentError } from '../tools.errors';
import { fillUrlTemplate, templatePathProblem } from './url-template';

describe('templatePathProblem (a tool URL template, when the tool is saved)', () => {
  it.each([
    'https://api.example.com/claims/{claimId}',
    'https://api.example.com/claims/{claimId}?fields=a.b',
    'https://api.example.com/v1.2/files/{name}.json',
    'https://api.example.com/.well-known/{doc}',
    'https://api.example.com/a/...',
    'https://api.example.com/search?path=../x',
    'https://api.example.com',
  ])('accepts %s', (url) => {
    expect(templatePathProblem(url)).toBeUndefined();
  });

  it.each([
    ['https://api.example.com/public/../admin/{id}', /"\." or "\.\." segments/],
    ['https://api.example.com/public/./{id}', /"\." or "\.\." segments/],
    ['https://api.example.com/public/%2e%2e/admin', /segments/],
    ['https://api.example.com/public/%2E%2E/admin', /segments/],
    ['https://api.example.com/public/.%2E/admin', /segments/],
    ['https://api.example.com/public/%2e/{id}', /segments/],
    ['https://api.example.com/public/..', /segments/],
    ['https://api.example.com/public/.\t./admin', /segments/],
    ['https://api.example.com/public\\..\\admin', /backslashes/],
    ['https://api.example.com/public/{id}\\x', /backslashes/],
  ])('refuses %s', (url, problem) => {
    expect(templatePathProblem(url)).toMatch(problem);
  });
});

describe('fillUrlTemplate (the arguments of a call, in the path)', () => {
  const template = 'https://api.example.com/claims/{claimId}/notes?q={q}';

  it('fills path and query placeholders, URL-encoded, and says which arguments it used', () => {
    const { url, used } = fillUrlTemplate(template, { claimId: 'C 42', q: 'a/b', other: 1 });
    expect(url).toBe('https://api.example.com/claims/C%2042/notes?q=a%2Fb');
    expect([...used].sort()).toEqual(['claimId', 'q']);
  });

  it('keeps values with dots that are no dot segment', () => {
    expect(fillUrlTemplate(template, { claimId: 'v1.2', q: '..' }).url).toBe(
      'https://api.example.com/claims/v1.2/notes?q=..',
    );
    expect(fillUrlTemplate(template, { claimId: '...', q: '' }).url).toContain('/claims/.../');
  });

  it.each([
    ['..', 'claimId'],
    ['.', 'claimId'],
    ['%2e%2e', 'claimId'],
    ['%2E.', 'claimId'],
    ['%252e%252e', 'claimId'],
    ['../admin', 'claimId'],
    ['a/b', 'claimId'],
    ['a%2Fb', 'claimId'],
    ['a%252fb', 'claimId'],
    ['..\\admin', 'claimId'],
    ['a%5cb', 'claimId'],
  ])('refuses the path argument %j, naming the argument and not the value', (value, name) => {
    let caught: unknown;
    try {
      fillUrlTemplate(template, { claimId: value, q: 'x' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ToolPathArgumentError);
    expect(caught).toMatchObject({ code: 'TOOL_PATH_ARGUMENT_REFUSED', status: 422 });
    expect((caught as Error).message).toContain(`"${name}"`);
    if (value.length > 2) expect((caught as Error).message).not.toContain(value);
  });

  it('refuses a value nested in more percent-encoding than any server decodes', () => {
    // %2525…2e: each decoding takes off one level; ten are more than anyone decodes.
    const deep = `%${'25'.repeat(10)}2e`;
    expect(() => fillUrlTemplate(template, { claimId: `%${'25'.repeat(3)}2e`, q: 'x' })).toThrow(
      ToolPathArgumentError,
    );
    expect(() => fillUrlTemplate(template, { claimId: deep, q: 'x' })).toThrow(
      ToolPathArgumentError,
    );
  });

  it('refuses a dot segment made of the literal path and the argument together', () => {
    const joined = 'https://api.example.com/files/.{ext}/x';
    expect(() => fillUrlTemplate(joined, { ext: '.' })).toThrow(ToolPathArgumentError);
    expect(fillUrlTemplate(joined, { ext: 'txt' }).url).toBe(
      'https://api.example.com/files/.txt/x',
    );
  });
});

describe('buildHttpCall', () => {
  it('never sends a call whose path argument would climb out of the template', () => {
    const http = {
      method: 'GET' as const,
      url: 'https://api.example.com/public/{id}',
      headers: {},
    };
    expect(() => buildHttpCall(http, { id: '..' })).toThrow(ToolPathArgumentError);
    // What the old code produced: new URL() resolved the dot segment to another path.
    expect(new URL('https://api.example.com/public/..').pathname).toBe('/');
    expect(buildHttpCall(http, { id: 'C-1', extra: 'y' }).url).toBe(
      'https://api.example.com/public/C-1?extra=y',
    );
  });

  it('refuses a stored template whose own path has a dot segment (saved before the rule)', () => {
    const http = { method: 'GET' as const, url: 'https://api.example.com/a/../b', headers: {} };
    expect(() => buildHttpCall(http, {})).toThrow(
      expect.objectContaining({ code: 'TOOL_REQUEST_INVALID' }),
    );
  });
});

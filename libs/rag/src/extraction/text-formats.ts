/**
 * The text a JSON document is indexed as, or undefined when the text is not a JSON object or
 * array. Kept as written, except that a minified one-liner is laid out on lines so the chunker
 * has somewhere to cut.
 */
export function jsonText(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return undefined;
  try {
    JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  return trimmed.includes('\n') ? text : layOutJson(trimmed);
}

/**
 * Valid JSON re-laid with two-space indentation, token by token rather than through
 * JSON.stringify, so numbers beyond 2^53 and key order survive exactly as uploaded.
 */
function layOutJson(json: string): string {
  let out = '';
  let depth = 0;
  const newline = () => '\n' + '  '.repeat(depth);
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '"') {
      const start = i;
      for (i++; json[i] !== '"'; i++) if (json[i] === '\\') i++;
      out += json.slice(start, i + 1);
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const next = json.slice(i + 1).trimStart()[0];
      if (next === close) {
        out += c + close;
        i = json.indexOf(close, i + 1);
      } else {
        depth++;
        out += c + newline();
      }
    } else if (c === '}' || c === ']') {
      depth--;
      out += newline() + c;
    } else if (c === ',') out += ',' + newline();
    else if (c === ':') out += ': ';
    else if (!/\s/.test(c)) out += c;
  }
  return out;
}

const DELIMITERS = [',', ';', '\t', '|'];
const SAMPLE_RECORDS = 20;

/**
 * Whether the first records of the text split into the same number of fields (at least two) by
 * one of the usual delimiters. Quoted fields may hold delimiters and line breaks.
 */
export function hasConsistentDelimiters(text: string): boolean {
  return DELIMITERS.some((delimiter) => {
    const counts = delimiterCounts(text, delimiter);
    return counts.length > 0 && counts[0]! > 0 && counts.every((n) => n === counts[0]);
  });
}

/** Delimiters per record (outside quotes) for the first records, skipping blank lines. */
function delimiterCounts(text: string, delimiter: string): number[] {
  const counts: number[] = [];
  let count = 0;
  let inQuotes = false;
  let blank = true;
  for (let i = 0; i <= text.length && counts.length < SAMPLE_RECORDS; i++) {
    const c = text[i];
    if (c === undefined || (!inQuotes && (c === '\n' || c === '\r'))) {
      if (!blank) counts.push(count);
      count = 0;
      blank = true;
      continue;
    }
    // A doubled quote inside a quoted field toggles twice, so it needs no special case.
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && c === delimiter) count++;
    if (c.trim() !== '') blank = false;
  }
  return counts;
}

/**
 * The text as stored and chunked: LF line ends, no trailing spaces, at most two blank lines in
 * a row, no blank lines at either end.
 */
export function normalizeText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{4,}/g, '\n\n\n')
    .replace(/^\n+/, '')
    .trimEnd();
}

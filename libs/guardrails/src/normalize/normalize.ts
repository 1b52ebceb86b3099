/**
 * What detectors read: the text as a person would see it. Attackers hide instructions from
 * naive filters with zero-width and bidi characters, look-alike letters from other scripts,
 * spaced-out letters and encoded payloads; normalisation undoes those, and decoded payloads
 * are inspected as extra texts.
 */

// Zero-width, joiners, bidi embeddings/overrides/isolates, soft hyphen, BOM, tag characters.
const INVISIBLE =
  /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]|[\u{E0000}-\u{E007F}]/gu;

/** Cyrillic and Greek letters that look like Latin ones (the common confusables). */
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ӏ: 'l',
  ɡ: 'g',
  ɩ: 'i',
  ν: 'v',
  ο: 'o',
  α: 'a',
  ρ: 'p',
  τ: 't',
  κ: 'k',
  ι: 'i',
  υ: 'u',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
};
const CONFUSABLE_RE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');

/** Letters spelled out with separators: "i g n o r e", "i.g.n.o.r.e", "i-g-n-o-r-e". */
const SPACED_LETTERS = /\b(?:[A-Za-zÄÖÜäöüß][ ._\-*]){3,}[A-Za-zÄÖÜäöüß]\b/g;

export interface NormalizedText {
  /** The text for detectors: NFKC, no invisible characters, confusables mapped, spacing undone. */
  text: string;
  /** Payloads found encoded in the text (base64, hex), decoded. */
  decoded: string[];
  /**
   * The rot13 of the text, for phrase rules only (a statistical model would read noise);
   * empty when the text reads as ordinary language, which rot13 would only garble.
   */
  rot13: string;
}

export function normalize(input: string): NormalizedText {
  let text = input.normalize('NFKC').replace(INVISIBLE, '');
  if (CONFUSABLE_RE.test(text)) text = text.replace(CONFUSABLE_RE, (c) => CONFUSABLES[c] ?? c);
  text = text.replace(SPACED_LETTERS, (m) => m.replace(/[ ._\-*]/g, ''));
  text = text.replace(/\s+/g, ' ').trim();
  return { text, decoded: decodePayloads(text), rot13: readsAsLanguage(text) ? '' : rot13(text) };
}

const BASE64_TOKEN = /^[A-Za-z0-9+/]{20,}={0,2}$/;
const HEX_TOKEN = /^(?:[0-9a-fA-F]{2}){8,}$/;

/**
 * Decodes base64 and hex tokens that turn out to be readable text. Works on whitespace-
 * separated tokens (the text is already collapsed), so ordinary prose costs one split.
 */
function decodePayloads(text: string): string[] {
  const found: string[] = [];
  for (const raw of text.split(' ')) {
    if (raw.length < 16) continue;
    const token = trimPunctuation(raw);
    const decoded = HEX_TOKEN.test(token)
      ? Buffer.from(token, 'hex').toString('utf8')
      : BASE64_TOKEN.test(token)
        ? Buffer.from(token, 'base64').toString('utf8')
        : undefined;
    if (decoded !== undefined && readable(decoded)) found.push(decoded);
  }
  return found;
}

const OPENING = new Set('("\'[{<');
const CLOSING = new Set(')"\']}>.,;:!?');

/** The token without the brackets and punctuation around it. A loop: a pattern anchored at the
 *  end would rescan a long run of ")" from every position. */
function trimPunctuation(token: string): string {
  let start = 0;
  let end = token.length;
  while (start < end && OPENING.has(token[start]!)) start++;
  while (end > start && CLOSING.has(token[end - 1]!)) end--;
  return token.slice(start, end);
}

/** Mostly printable letters and spaces: a decoded payload worth inspecting. */
function readable(s: string): boolean {
  if (s.length < 8) return false;
  const printable = s.replace(/[^\p{L}\p{N}\p{P}\s]/gu, '').length;
  // Two words in a row; the look-behind starts a try only at a word's first letter, so a long
  // run of letters is read once, not once per letter.
  return printable / s.length > 0.9 && /(?<!\p{L})\p{L}{3,}\s+\p{L}{2}/u.test(s);
}

const COMMON_WORDS = new Set(
  'the a an and or to of in is are you i it that for on with this be not have what your my me we can do der die das und ist nicht ich du sie es ein eine zu mit le la les et de un une el los y que'.split(
    ' ',
  ),
);

/** Enough everyday function words (over 8 %) to be plain language rather than an encoding. */
function readsAsLanguage(text: string): boolean {
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  if (words.length < 4) return false;
  let common = 0;
  for (const w of words) if (COMMON_WORDS.has(w)) common++;
  return common / words.length > 0.08;
}

/** rot13 by code unit, decoded in one go (a callback per letter would dominate a 4 KB check). */
function rot13(s: string): string {
  const codes = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    codes[i] =
      c >= 65 && c <= 90 ? ((c - 52) % 26) + 65 : c >= 97 && c <= 122 ? ((c - 84) % 26) + 97 : c;
  }
  return Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength).toString('utf16le');
}

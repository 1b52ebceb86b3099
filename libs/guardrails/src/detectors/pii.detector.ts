import { isValidIBAN } from './iban';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Finding } from './finding';

/**
 * Structured PII by pattern and checksum: e-mail addresses, phone numbers (libphonenumber-js),
 * payment cards (Luhn), IBANs (mod 97), US SSNs (valid areas), IPv4/IPv6 addresses, and
 * credentials (API keys of well-known services, private-key blocks, bearer tokens, password
 * assignments). Types use Presidio's names where Presidio has one. Names and street addresses
 * are not detected here (they need an NER model).
 */
export type PiiType =
  | 'EMAIL_ADDRESS'
  | 'PHONE_NUMBER'
  | 'CREDIT_CARD'
  | 'IBAN_CODE'
  | 'US_SSN'
  | 'IP_ADDRESS'
  | 'CREDENTIAL';

export const PII_TYPES: PiiType[] = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD',
  'IBAN_CODE',
  'US_SSN',
  'IP_ADDRESS',
  'CREDENTIAL',
];

interface Candidate {
  type: PiiType;
  start: number;
  end: number;
  score: number;
}

// Linear on any input: a try starts only where a local part begins (the look-behind), and every
// part is bounded by RFC 5321's lengths, so "@" before or after a long run costs one pass.
const EMAIL =
  /(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z])/g;
const IBAN = /\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?\b/g;
const CARD = /\b(?:\d[ -]?){11,18}\d\b/g;
const SSN = /\b(\d{3})[- ]?(\d{2})[- ]?(\d{4})\b/g;
const IPV4 =
  /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\.?\d)/g;
const IPV6 =
  /(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:?){0,6}[0-9a-fA-F]{1,4}(?![\w:])/g;
const PHONE =
  /(?<![\w+])(?:\+|00)?\(?\d{1,4}\)?(?:[ .\-\u00A0]?\(?\d{1,5}\)?){1,5}(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?![\w])/gi;
const PHONE_CONTEXT =
  /\b(?:phone|tel|telephone|call|mobile|cell|fax|whatsapp|reach (?:me|us)|telefon|handy|rufnummer|anrufen)\b/i;
/** What follows a house number: a capitalised street name, or a street word. */
const STREET_AFTER =
  /^[ \t]+(?:\p{Lu}\p{Ll}|(?:[\p{L}.]+[ \t]+){0,2}(?:avenue|ave|street|st|road|rd|drive|dr|lane|ln|boulevard|blvd|way|court|ct|place|pl|terrace|rue|via|calle|straße|strasse|weg|platz|allee)\b)/iu;
const NOT_PHONE_BEFORE =
  /\b(?:zip|postal|post code|postcode|plz|licen[cs]e|account|order|invoice|id|passport)\b[^\n]{0,20}$/i;
const CREDENTIALS: RegExp[] = [
  /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  /\b(?:sk|pk|rk)[-_](?:live|test|proj)?[-_]?[A-Za-z0-9_-]{20,}\b/g, // OpenAI, Stripe
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, // GitHub
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google
  /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g, // JWT
  /\b(?:password|passwort|passwd|pwd|secret|api[_-]?key|token)\s*[:=]\s*\S{6,}/gi,
];

const MAX_PHONE_CANDIDATES = 50;
/** The extension after a number ("x12", "ext. 12"); the look-behind anchors the optional space. */
const EXTENSION = /(?<!\s)\s*(?:x|ext\.?|extension)\s*\d{1,5}$/i;

/** Countries tried for a phone number written without its country code. */
const PHONE_REGIONS: CountryCode[] = [
  'US',
  'GB',
  'DE',
  'FR',
  'IT',
  'ES',
  'NL',
  'BE',
  'AU',
  'CA',
  'CH',
  'AT',
  'SE',
  'BR',
  'IN',
];

export function detectPii(text: string): Finding[] {
  const found: Candidate[] = [];
  const add = (type: PiiType, start: number, end: number, score: number) =>
    found.push({ type, start, end, score });
  for (const re of CREDENTIALS)
    for (const m of text.matchAll(re)) add('CREDENTIAL', m.index, m.index + m[0].length, 0.9);
  if (text.includes('@'))
    for (const m of text.matchAll(EMAIL))
      add('EMAIL_ADDRESS', m.index, m.index + m[0].length, 0.95);
  for (const m of text.matchAll(IBAN))
    if (isValidIBAN(m[0])) add('IBAN_CODE', m.index, m.index + m[0].length, 0.95);
  for (const m of text.matchAll(CARD)) {
    const digits = m[0].replace(/\D/g, '');
    if (digits.length >= 12 && digits.length <= 19 && luhn(digits) && cardPrefix(digits))
      add('CREDIT_CARD', m.index, m.index + m[0].length, 0.9);
  }
  for (const m of text.matchAll(SSN))
    if (
      validSsn(m[1]!, m[2]!, m[3]!) &&
      (m[0].includes('-') || /\bssn|social security/i.test(text))
    )
      add('US_SSN', m.index, m.index + m[0].length, m[0].includes('-') ? 0.85 : 0.6);
  for (const m of text.matchAll(IPV4)) add('IP_ADDRESS', m.index, m.index + m[0].length, 0.9);
  // The IPv6 pattern is costly on prose; only text with a hex group and a colon can match.
  if (/[0-9a-fA-F]{1,4}:[0-9a-fA-F]{0,4}:/.test(text))
    for (const m of text.matchAll(IPV6))
      if (m[0].includes('::') || m[0].split(':').length === 8)
        add('IP_ADDRESS', m.index, m.index + m[0].length, 0.8);
  // Each candidate costs a few parses: a text of nothing but digit groups is bounded.
  let phoneCandidates = 0;
  for (const m of text.matchAll(PHONE)) {
    if (m[0].replace(/\D/g, '').length >= 7 && ++phoneCandidates > MAX_PHONE_CANDIDATES) break;
    const context = PHONE_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index));
    // "at 704 1436 Redbud Drive", "ZIP: 75534-030": house numbers and codes, not phones.
    const street = STREET_AFTER.test(text.slice(m.index + m[0].length, m.index + m[0].length + 40));
    const labelled = NOT_PHONE_BEFORE.test(text.slice(Math.max(0, m.index - 30), m.index));
    const score = (street || labelled) && !context ? 0 : phoneScore(m[0], context);
    if (score > 0) add('PHONE_NUMBER', m.index, m.index + m[0].length, score);
  }
  return resolveOverlaps(found).map((c) => ({ detector: 'pii', ...c }));
}

/**
 * A phone number if libphonenumber finds it valid, in its own region (+…) or a likely one;
 * merely possible numbers count only when the text around says it is a number to call.
 */
function phoneScore(raw: string, context: boolean): number {
  const trimmed = raw.trim().replace(EXTENSION, '');
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return 0;
  if (/^\d{4}-\d{2}-\d{2}|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$/.test(trimmed)) return 0; // dates
  // A bare run of digits is more often an order number than a phone number.
  if (/^\d+$/.test(trimmed) && !context) return 0;
  if (/^(?:\+|00)/.test(trimmed)) {
    const parsed = parsePhoneNumberFromString(trimmed.replace(/^00/, '+'));
    return parsed?.isValid() ? 0.95 : parsed?.isPossible() ? 0.7 : 0;
  }
  let possible = false;
  for (const region of PHONE_REGIONS) {
    const parsed = parsePhoneNumberFromString(trimmed, region);
    if (parsed?.isValid()) return 0.85;
    possible ||= parsed?.isPossible() ?? false;
  }
  return possible && context ? 0.6 : 0;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes (Visa, Mastercard, Amex, Discover, Diners, JCB, Maestro, UnionPay…). */
function cardPrefix(d: string): boolean {
  return /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6|35|50|5[6-9]|1800|2131|2014|2149)/.test(d);
}

function validSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area < '900' && group !== '00' && serial !== '0000';
}

/** Overlapping findings: the longer span wins, then the higher score. */
function resolveOverlaps(found: Candidate[]): Candidate[] {
  const sorted = [...found].sort(
    (a, b) => b.end - b.start - (a.end - a.start) || b.score - a.score,
  );
  const kept: Candidate[] = [];
  for (const c of sorted) if (!kept.some((k) => c.start < k.end && k.start < c.end)) kept.push(c);
  return kept.sort((a, b) => a.start - b.start);
}

// Worst-case inputs for everything that reads untrusted text on the request path: each detector,
// the normaliser, the token counter, the chunker and the document extractor, fed inputs built to
// make a backtracking pattern or a quadratic loop blow up (long unbroken words, "@" before a long
// run, repeated HTML comments, runs of punctuation…), at sizes up to the API's limits.
// Target (issue #24): 100,000 characters checked in ≤ 50 ms by each step.
// Prints JSON. Run after `node scripts/build.mjs`:
//   node test/bench/adversarial-input.bench.mjs [--quick]
import { join } from 'node:path';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { benchArgs, root } from './support.mjs';

const { quick } = benchArgs();
const load = async (path) => (await import(join(root, 'dist', path))).default;
const guardrails = await load('libs/guardrails/src/index.js');
const llm = await load('libs/llm/src/index.js');
const chunker = await load('libs/rag/src/chunking/chunker.js');
const extraction = await load('libs/rag/src/extraction/document-extractor.js');
const { detectToxicity } = await load('libs/guardrails/src/detectors/toxicity.detector.js');
const policy = parse(readFileSync(join(root, 'config', 'guardrails.yaml'), 'utf8'));

const SIZE = quick ? 10_000 : 100_000;
const rep = (unit, size = SIZE) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Inputs that hurt a naive pattern: each one named for what it attacks. */
const inputs = {
  'letters (one long word)': rep('x'),
  '@ then letters (e-mail)': `@${rep('a', SIZE - 1)}`,
  'letters then @ (e-mail)': `${rep('a', SIZE - 1)}@`,
  'dots and letters (e-mail domain)': `a@${rep('a.', SIZE - 2)}`,
  'digits with separators (phone, card)': rep('1 2-3 '),
  'hex groups and colons (IPv6)': rep('ab:'),
  'base64-looking word': rep('QUJD'),
  'closing punctuation (payload trim)': `${rep(')', SIZE - 1)}x`,
  'spaces (whitespace runs)': `ignore${rep(' ', SIZE - 20)}previous x`,
  'spaced letters (obfuscation)': rep('i g n o r e '),
  'HTML comments': `${rep('<!---->', SIZE - 10)}<x`,
  'markdown heading spaces': `#${rep(' ', SIZE - 2)}x`,
  'sentence without stop': rep('word '),
  'punctuation runs': rep('!?.'),
  'prose (control)': rep('Please summarise the attached claim form and tell me the next step. '),
};

function time(fn, runs) {
  fn(); // warm-up
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return Math.round(Math.max(...ms) * 100) / 100;
}

const steps = {
  normalize: (text) => guardrails.normalize(text),
  pii: (text) => guardrails.detectPii(text),
  injection: (text) => guardrails.detectInjection(guardrails.normalize(text)),
  toxicity: (text) => detectToxicity(guardrails.normalize(text).text),
  'input check (default policy)': (text) => guardrails.inspectInput(text, policy),
  'token count (gpt-4o)': (text) => llm.countTextTokens('gpt-4o', text),
  'token count (other model)': (text) => llm.countTextTokens('llama-3', text),
  chunker: (text) =>
    chunker.chunkText(text, {
      maxTokens: 400,
      overlapTokens: 40,
      countTokens: (s) => llm.countTextTokens('text-embedding-3-small', s),
    }),
};

const runs = quick ? 1 : 3;
const worst = {};
const table = {};
for (const [name, text] of Object.entries(inputs)) {
  table[name] = {};
  for (const [step, fn] of Object.entries(steps)) {
    const ms = time(() => fn(text), runs);
    table[name][step] = ms;
    worst[step] = Math.max(worst[step] ?? 0, ms);
  }
}

// Extraction runs off the event loop; what counts is its wall time and that it ends. Refusing
// a document (an error with a code, e.g. DOCUMENT_UNREADABLE) is an answer; any other error
// breaks the bench.
const extractionMs = {};
const extractionOutcome = {};
for (const [name, text] of Object.entries({
  'HTML comments': `<html><body>${inputs['HTML comments']}</body></html>`,
  'unclosed tags': `<html><body>${rep('<p a="', SIZE)}</body></html>`,
  'markdown heading spaces': inputs['markdown heading spaces'],
})) {
  const t0 = performance.now();
  extractionOutcome[name] = await extraction
    .extractDocument({ bytes: Buffer.from(text), filename: 'x.html' })
    .then(
      () => 'text',
      (error) => {
        if (!error?.code) throw error;
        return error.code;
      },
    );
  extractionMs[name] = Math.round(performance.now() - t0);
}

console.log(
  JSON.stringify(
    {
      node: process.version,
      size: SIZE,
      targetMs: 50,
      worstMsPerStep: worst,
      extractionMs,
      extractionOutcome,
      table,
    },
    null,
    2,
  ),
);

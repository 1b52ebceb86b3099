// Quality and speed of the local guardrails, on the public data sets in ../shared/data:
// - prompt injection (deepset-train.jsonl): 5-fold cross-validation of the shipped training
//   recipe (model + rules), so every figure is on prompts the model did not learn from; plus
//   the false-positive rate on the held-out half of benign-prompts.txt;
// - PII (presidio-synth-part1.json): per-type precision and recall for the structured types;
// - latency of the full local input check (default policy) on a 4 KB message.
// Prints JSON. Run after `node scripts/build.mjs`:
//   node test/bench/guardrails-eval.bench.mjs [--folds 5] [--runs 2000] [--quick]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { benchArgs, check, dataset, root } from './support.mjs';

const args = benchArgs({
  folds: { type: 'number', integer: true, min: 2, default: 5, quick: 2 },
  runs: { type: 'number', integer: true, min: 1, default: 2000, quick: 20 },
});
const injectionData = dataset('prompt-injection/deepset-train.jsonl');
const piiData = dataset('pii/presidio-synth-part1.json');

const lib = (await import(join(root, 'dist/libs/guardrails/src/index.js'))).default;
const { benignPrompts } = (
  await import(join(root, 'dist/libs/guardrails/src/detectors/injection/benign-prompts.js'))
).default;
const policy = parse(readFileSync(join(root, 'config', 'guardrails.yaml'), 'utf8'));
const threshold = policy.input.prompt_injection.threshold;

function injectionEval() {
  const examples = readFileSync(injectionData, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const benign = benignPrompts();
  const benignTrain = benign.filter((_, i) => i % 2 === 0);
  const benignHeldOut = benign.filter((_, i) => i % 2 === 1);
  const K = args.folds;
  const scored = []; // [score, label, rulesOnly]
  const benignScores = [];
  for (let k = 0; k < K; k++) {
    const train = [
      ...examples.filter((_, i) => i % K !== k),
      ...benignTrain.map((text) => ({ text, label: 0 })),
    ].map((e) => ({ text: lib.normalize(e.text).text, label: e.label }));
    const model = lib.train(train);
    for (const [i, e] of examples.entries()) {
      if (i % K !== k) continue;
      const findings = lib.detectInjection(lib.normalize(e.text), model);
      scored.push({
        score: Math.max(...findings.map((f) => f.score)),
        rule: findings.some((f) => f.type.startsWith('rule:')),
        label: e.label,
      });
    }
    if (k === 0)
      for (const text of benignHeldOut)
        benignScores.push(
          Math.max(...lib.detectInjection(lib.normalize(text), model).map((f) => f.score)),
        );
  }
  check(scored.length === examples.length, `${examples.length} prompts, ${scored.length} scored`);
  check(
    scored.every((s) => Number.isFinite(s.score)),
    'a prompt got no injection score',
  );
  const at = (t, pick = (s) => s.score >= t) => {
    let tp = 0,
      fp = 0,
      fn = 0,
      tn = 0;
    for (const s of scored) {
      const p = pick(s);
      if (p && s.label) tp++;
      else if (p) fp++;
      else if (s.label) fn++;
      else tn++;
    }
    const precision = tp / (tp + fp || 1);
    const recall = tp / (tp + fn || 1);
    return {
      threshold: t,
      precision: +precision.toFixed(3),
      recall: +recall.toFixed(3),
      f1: +((2 * precision * recall) / (precision + recall || 1)).toFixed(3),
      falsePositiveRate: +(fp / (fp + tn || 1)).toFixed(3),
    };
  };
  return {
    folds: K,
    examples: scored.length,
    injections: scored.filter((s) => s.label).length,
    defaultThreshold: at(threshold),
    rulesOnly: { ...at(null, (s) => s.rule), threshold: undefined },
    byThreshold: [0.3, 0.4, 0.45, 0.5, 0.6, 0.7].map((t) => at(t)),
    benignHeldOut: {
      prompts: benignScores.length,
      falsePositives: benignScores.filter((s) => s >= threshold).length,
    },
  };
}

function piiEval() {
  const TYPES = [
    'EMAIL_ADDRESS',
    'PHONE_NUMBER',
    'CREDIT_CARD',
    'IBAN_CODE',
    'US_SSN',
    'IP_ADDRESS',
  ];
  const docs = JSON.parse(readFileSync(piiData, 'utf8'));
  const counts = Object.fromEntries(TYPES.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]));
  const overlaps = (f, g) => f.start < g.end_position && g.start_position < f.end;
  for (const d of docs) {
    const gold = d.spans.filter((s) => TYPES.includes(s.entity_type));
    const found = lib.detectPii(d.full_text).filter((f) => TYPES.includes(f.type));
    for (const g of gold)
      counts[g.entity_type][
        found.some((f) => f.type === g.entity_type && overlaps(f, g)) ? 'tp' : 'fn'
      ]++;
    for (const f of found)
      if (!gold.some((g) => g.entity_type === f.type && overlaps(f, g))) counts[f.type].fp++;
  }
  check(
    Object.values(counts).some((c) => c.tp > 0),
    'the PII detector found none of the labelled spans',
  );
  return Object.fromEntries(
    Object.entries(counts).map(([type, c]) => [
      type,
      {
        spans: c.tp + c.fn,
        precision: +(c.tp / (c.tp + c.fp || 1)).toFixed(3),
        recall: +(c.tp / (c.tp + c.fn || 1)).toFixed(3),
      },
    ]),
  );
}

/** p50 and p99 of the full local input check (default policy) on a text. */
function timeCheck(text, runs = args.runs) {
  for (let i = 0; i < Math.min(200, runs); i++) lib.inspectInput(text, policy);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    lib.inspectInput(text, policy);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const q = (p) => +times[Math.floor(p * times.length)].toFixed(3);
  return { bytes: Buffer.byteLength(text), p50Ms: q(0.5), p99Ms: q(0.99) };
}

/** An ordinary 4 KB support message (one e-mail address, one phone number), and harder ones. */
function latency() {
  const prose = [
    'Hello, I am writing about my order from last Tuesday, which still has not arrived.',
    'The tracking page has said "in transit" for six days now, and the courier does not answer.',
    'I ordered a blue winter jacket in size M and a pair of leather gloves as a present.',
    'Could you tell me whether the parcel is lost, and if so, whether you can send a replacement?',
    'If a replacement is not possible, I would like a refund to the original payment method.',
    'I have been a customer for several years and have always been happy with the service.',
    'Last winter I returned a pair of boots and the refund took about a week, which was fine.',
    'This time the jacket is for a trip to Norway at the end of the month, so timing matters.',
    'Please let me know what information you need from me to look into this.',
    'You can reach me at jane.doe@example.com or on +44 20 7946 0958 during office hours.',
  ];
  let ordinary = '';
  for (let i = 0; ordinary.length < 4096; i++) ordinary += `${prose[i % prose.length]} `;
  ordinary = ordinary.slice(0, 4096);
  const contact = 'Reach me at jane.doe@example.com or +44 20 7946 0958, order 48213. ';
  let piiDense = '';
  while (piiDense.length < 4096) piiDense += contact;
  return {
    ordinary4kB: timeCheck(ordinary),
    piiDense4kB: timeCheck(piiDense.slice(0, 4096)),
    shortMessage: timeCheck('Where is my parcel? I ordered it last week.'),
  };
}

console.log(
  JSON.stringify(
    { node: process.version, promptInjection: injectionEval(), pii: piiEval(), latency: latency() },
    null,
    2,
  ),
);

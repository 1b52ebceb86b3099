// Trains the prompt-injection model shipped in libs/guardrails (a logistic regression over
// hashed n-grams) on a JSONL file of {"text", "label"} (label 1 = injection), after the same
// normalisation the detector applies. Run after `node scripts/build.mjs`:
//   node scripts/train-injection-model.mjs [../shared/data/prompt-injection/deepset-train.jsonl]
// test/bench/guardrails-eval.bench.mjs reports its quality by cross-validation.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const source = process.argv[2] ?? '../shared/data/prompt-injection/deepset-train.jsonl';
const load = async (m) => (await import(`../dist/libs/guardrails/src/${m}.js`)).default;
const { train, toFile } = await load('detectors/injection/logistic-model');
const { normalize } = await load('normalize/normalize');
const { benignPrompts } = await load('detectors/injection/benign-prompts');
// Ordinary creative and task requests as further negatives: the public set's injections often
// end in "write a poem about…", which alone would teach the model to refuse poems.
const examples = [
  ...readFileSync(source, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line)),
  ...benignPrompts().map((text) => ({ text, label: 0 })),
].map((e) => ({ text: normalize(e.text).text, label: e.label }));
const model = train(examples);
const about = `logistic regression over hashed word 1-2-grams and char 3-5-grams; trained on ${basename(source)} (deepset/prompt-injections, Apache-2.0) and benign-prompts.txt (${examples.length} examples)`;
const out = 'libs/guardrails/src/detectors/injection/injection-model.json';
writeFileSync(out, JSON.stringify(toFile(model, about)));
console.log(`wrote ${out}: ${model.weights.filter((w) => w !== 0).length} weights`);

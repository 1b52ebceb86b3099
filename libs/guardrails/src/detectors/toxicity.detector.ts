import type { Finding } from './finding';

/**
 * The local fallback for toxicity: a small lexicon (English and German) per category, matched
 * on word boundaries. The categories are those of OpenAI's moderation endpoint, so a remote
 * verdict and a local one read the same. Deliberately narrow: a word list cannot judge
 * context, so it only catches the unambiguous.
 */
export const TOXICITY_CATEGORIES = [
  'harassment',
  'hate',
  'self-harm',
  'sexual',
  'violence',
  'illicit',
] as const;
export type ToxicityCategory = (typeof TOXICITY_CATEGORIES)[number];

const LEXICON: Record<ToxicityCategory, string[]> = {
  harassment: [
    'fuck you',
    'piece of shit',
    'worthless idiot',
    'stupid bitch',
    'shut up bitch',
    'kill yourself',
    'you moron',
    'dumb cunt',
    'halt die fresse',
    'du arschloch',
    'fick dich',
    'du hurensohn',
    'verpiss dich',
  ],
  hate: [
    'subhuman',
    'untermensch',
    'gas the',
    'white power',
    'heil hitler',
    'sieg heil',
    'race traitor',
    'ethnic cleansing now',
    'all immigrants are vermin',
  ],
  'self-harm': [
    'kill myself',
    'end my life',
    'want to die',
    'how to commit suicide',
    'cut myself',
    'mich umbringen',
    'will sterben',
    'suizid begehen',
  ],
  sexual: ['child porn', 'cp links', 'explicit sex with minors', 'kinderpornografie'],
  violence: [
    'i will kill you',
    'going to shoot',
    'bomb the',
    'behead',
    'mass shooting',
    'ich bringe dich um',
    'ich töte dich',
    'abstechen',
  ],
  illicit: [
    'how to make a bomb',
    'make meth',
    'cook meth',
    'buy cocaine',
    'untraceable gun',
    'bombe bauen',
    'crystal meth herstellen',
  ],
};

/** One pass over the text: every phrase in one alternation, each category a named group. */
const CATEGORIES = Object.keys(LEXICON) as ToxicityCategory[];
const groupName = (c: ToxicityCategory) => c.replace(/-/g, '_');
const PATTERN = new RegExp(
  `(?<![\\p{L}])(?:${CATEGORIES.map((c) => `(?<${groupName(c)}>${LEXICON[c].map(escape).join('|')})`).join('|')})(?![\\p{L}])`,
  'giu',
);

export function detectToxicity(text: string): Finding[] {
  const findings: Finding[] = [];
  for (const m of text.matchAll(PATTERN)) {
    const category = CATEGORIES.find((c) => m.groups?.[groupName(c)] !== undefined)!;
    findings.push({
      detector: 'toxicity',
      type: category,
      score: 0.8,
      start: m.index,
      end: m.index + m[0].length,
    });
  }
  return findings;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
}

/**
 * Phrases of instruction override, role hijacking and prompt extraction, in English and German
 * (and the commonest French and Spanish forms). Each rule has a score: how sure a match alone
 * makes us. They run on the normalised text and on decoded payloads.
 */
export interface InjectionRule {
  name: string;
  pattern: RegExp;
  score: number;
}

// Each qualifier word carries its own trailing space, so no two quantifiers compete for the same
// blanks (that would backtrack polynomially on a long run of spaces).
const PRIOR = String.raw`(?:(?:all|any|every|the|your|my|these|those|previous|prior|above|earlier|preceding|foregoing|former|initial|original|system)\s+)*`;
const WHAT = String.raw`(?:instructions?|rules?|prompts?|directions?|directives?|tasks?|assignments?|orders?|commands?|guidelines?|context|constraints?|restrictions?|programming|everything|text|information|documents?)`;
const VORHER = String.raw`(?:(?:alle[ns]?|die|deine|ihre|meine|sämtliche|vorherigen?|bisherigen?|obigen?|vorangegangenen?|früheren?)\s+)*`;
const ANWEISUNG = String.raw`(?:anweisungen|instruktionen|aufgaben|aufträge|befehle|regeln|vorgaben|informationen|texte|alles)`;

export const INJECTION_RULES: InjectionRule[] = [
  {
    name: 'override',
    score: 0.95,
    pattern: new RegExp(
      String.raw`\b(?:ignore|disregard|forget|skip|drop|abandon|override|neglect)\s+(?:about\s+)?${PRIOR}${WHAT}\b`,
      'i',
    ),
  },
  {
    name: 'override',
    score: 0.9,
    pattern:
      /\b(?:forget|ignore|disregard)\s+(?:everything|all(?: of)? (?:that|this|the above))\b/i,
  },
  {
    name: 'new_instructions',
    score: 0.85,
    pattern:
      /\b(?:new|updated|different|following)\s+(?:instructions?|tasks?|assignments?|rules)\s*(?::|follow|are|is)/i,
  },
  {
    name: 'new_instructions',
    score: 0.85,
    pattern: /\bnow\s+(?:focus|concentrate)\s+on\s+(?:your|the|a)\s+new\s+task\b/i,
  },
  {
    name: 'role_hijack',
    score: 0.85,
    pattern:
      /\b(?:from now on|henceforth|starting now),?\s+(?:you\s+(?:are|will|must|shall)|act|respond|answer)\b/i,
  },
  { name: 'role_hijack', score: 0.8, pattern: /\byou\s+are\s+(?:now|no longer)\b/i },
  {
    name: 'role_hijack',
    score: 0.75,
    pattern:
      /\b(?:pretend|imagine)\s+(?:to\s+be|you\s+are|that\s+you)\b|\bact\s+as\s+(?:an?\s+)?(?:unfiltered|uncensored|evil|jailbroken|different)\b/i,
  },
  {
    name: 'jailbreak',
    score: 0.95,
    pattern:
      /\b(?:DAN mode|do anything now|developer mode|jailbr(?:eak|oken)|god mode|no (?:ethical|moral) (?:guidelines|restrictions))\b/i,
  },
  {
    name: 'jailbreak',
    score: 0.8,
    pattern:
      /\b(?:bypass|circumvent|disable|turn off)\s+(?:(?:your|the|all|any|safety|content)\s+){0,3}(?:filters?|restrictions?|guidelines|rules|censorship|safeguards)\b/i,
  },
  {
    name: 'prompt_extraction',
    score: 0.9,
    pattern:
      /\b(?:reveal|print|show|display|output|repeat|tell me|give me|what (?:is|are|was|were))\s+(?:me\s+)?(?:your|the)\s+(?:system\s+|initial\s+|original\s+|hidden\s+)?(?:prompt|instructions|rules)\b/i,
  },
  {
    name: 'prompt_extraction',
    score: 0.85,
    pattern:
      /\b(?:what (?:was|is) written|repeat (?:the|all)? ?(?:text|words))\s+(?:at the (?:beginning|start|top)|above)\b/i,
  },
  {
    name: 'override_de',
    score: 0.95,
    pattern: new RegExp(
      String.raw`\b(?:ignorier(?:e|en)?|vergiss|vergessen\s+sie|missachte|überspringe?)\s+${VORHER}${ANWEISUNG}\b`,
      'i',
    ),
  },
  {
    name: 'override_de',
    score: 0.9,
    pattern: /\b(?:vergiss|ignoriere|vergessen\s+sie)\s+(?:alles|das alles|alle vorherigen)\b/i,
  },
  {
    name: 'override_de',
    score: 0.85,
    pattern:
      /\blassen\s+sie\s+alle\s+(?:vorherigen\s+)?(?:informationen|anweisungen|aufgaben)\s+hinter\s+sich\b/i,
  },
  {
    name: 'new_instructions_de',
    score: 0.85,
    pattern:
      /\b(?:nun|jetzt)\s+folgen\s+(?:neue|weitere)\s+(?:anweisungen|aufgaben|instruktionen)\b|\bneue\s+(?:anweisung|aufgabe)\s*:/i,
  },
  {
    name: 'role_hijack_de',
    score: 0.8,
    pattern:
      /\b(?:ab jetzt|von nun an)\s+(?:bist du|sind sie|antwortest du)\b|\bdu bist (?:jetzt|nun)\b|\btu so,? als (?:ob|wärst)\b/i,
  },
  {
    name: 'prompt_extraction_de',
    score: 0.9,
    pattern:
      /\b(?:zeige?|gib|nenne|verrate|wiederhole)\s+(?:mir\s+)?(?:deinen|den|deine|die)\s+(?:system\s*)?(?:prompt|anweisungen|instruktionen)\b|\bsystemprompt\b/i,
  },
  {
    name: 'override_fr',
    score: 0.9,
    pattern:
      /\b(?:oubliez|ignorez|oublie|ignore)\s+(?:toutes?\s+)?(?:les\s+)?(?:instructions|consignes|règles)\b/i,
  },
  {
    name: 'override_es',
    score: 0.9,
    pattern:
      /\b(?:olvida|ignora|olvide|ignore)\s+(?:todas?\s+)?(?:las\s+)?(?:instrucciones|reglas|órdenes)\b/i,
  },
];

/** The strongest rule that matches, or undefined. */
export function matchRules(text: string): InjectionRule | undefined {
  let best: InjectionRule | undefined;
  for (const rule of INJECTION_RULES)
    if ((!best || rule.score > best.score) && rule.pattern.test(text)) best = rule;
  return best;
}

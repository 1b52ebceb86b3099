/** A word-list classifier standing in for the moderation model. */

export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

// Matched as word prefixes, so "killing" and "bombs" are caught but "skill" is not.
const TRIGGERS: Record<string, ModerationCategory[]> = {
  kill: ['violence'],
  murder: ['violence'],
  shoot: ['violence'],
  stab: ['violence'],
  bomb: ['violence', 'illicit/violent'],
  hate: ['hate'],
  suicide: ['self-harm'],
};

const FLAGGED_SCORE = 0.93;
const CLEAN_SCORE = 0.0004;

export interface ModerationResult {
  flagged: boolean;
  categories: Record<ModerationCategory, boolean>;
  category_scores: Record<ModerationCategory, number>;
}

export function moderate(text: string): ModerationResult {
  const hits = new Set<ModerationCategory>();
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    for (const [trigger, categories] of Object.entries(TRIGGERS)) {
      if (word.startsWith(trigger)) categories.forEach((c) => hits.add(c));
    }
  }
  const categories = {} as Record<ModerationCategory, boolean>;
  const scores = {} as Record<ModerationCategory, number>;
  for (const c of MODERATION_CATEGORIES) {
    categories[c] = hits.has(c);
    scores[c] = hits.has(c) ? FLAGGED_SCORE : CLEAN_SCORE;
  }
  return { flagged: hits.size > 0, categories, category_scores: scores };
}

import { createHash } from 'node:crypto';
import { z } from 'zod';

const variable = z.strictObject({
  required: z.boolean().optional(),
  default: z.string().optional(),
});

export const promptTemplateSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: 'expected a lower-case template name' }),
  version: z.union([z.number().int().min(1), z.string().min(1)]).transform(String),
  description: z.string().optional(),
  variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), variable).default({}),
  system: z.string().min(1),
  variants: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
        weight: z.number().int().min(0).max(10_000),
        /** The variant's own system text; the template's when omitted. */
        system: z.string().min(1).optional(),
      }),
    )
    .default([]),
});

export type PromptTemplate = z.infer<typeof promptTemplateSchema>;

export interface RenderedPrompt {
  template: string;
  version: string;
  variant: string | null;
  system: string;
}

/**
 * The variant a conversation gets: a hash of the conversation id and the template name picks a
 * point in the total weight, so the same conversation always lands on the same variant and
 * conversations spread by weight.
 */
export function assignVariant(
  template: PromptTemplate,
  conversationId: string,
): PromptTemplate['variants'][number] | null {
  const total = template.variants.reduce((sum, v) => sum + v.weight, 0);
  if (total === 0) return null;
  const digest = createHash('sha256').update(`${template.name}:${conversationId}`).digest();
  let point = digest.readUInt32BE(0) % total;
  for (const variant of template.variants) {
    if (point < variant.weight) return variant;
    point -= variant.weight;
  }
  return null;
}

/** The variables a conversation must or may fill: missing required ones, and unknown ones. */
export function checkVariables(template: PromptTemplate, values: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(template.variables)) {
    if (spec.required && values[name] === undefined)
      problems.push(`${name} is required by template ${template.name}`);
  }
  for (const name of Object.keys(values)) {
    if (!(name in template.variables))
      problems.push(`${name} is not a variable of template ${template.name}`);
  }
  return problems;
}

export function renderTemplate(
  template: PromptTemplate,
  conversationId: string,
  values: Record<string, string>,
): RenderedPrompt {
  const variant = assignVariant(template, conversationId);
  const text = variant?.system ?? template.system;
  const system = text.replace(
    /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g,
    (_, name: string) => values[name] ?? template.variables[name]?.default ?? '',
  );
  return {
    template: template.name,
    version: template.version,
    variant: variant?.name ?? null,
    system: system.trim(),
  };
}

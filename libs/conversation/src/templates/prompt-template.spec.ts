import {
  assignVariant,
  checkVariables,
  promptTemplateSchema,
  renderTemplate,
} from './prompt-template';

const template = promptTemplateSchema.parse({
  name: 'support',
  version: 2,
  variables: { company: { required: true }, tone: { default: 'kind' } },
  system: 'You help {{company}}. Be {{ tone }}.',
  variants: [
    { name: 'a', weight: 70 },
    { name: 'b', weight: 30, system: 'B: {{company}}' },
  ],
});

describe('prompt templates', () => {
  it('assigns the same variant to the same conversation every time', () => {
    for (let i = 0; i < 50; i++) {
      const id = `conv-${i}`;
      expect(assignVariant(template, id)).toBe(assignVariant(template, id));
    }
  });

  it('spreads conversations by weight', () => {
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++) counts[assignVariant(template, `c${i}`)!.name as 'a' | 'b'] += 1;
    expect(counts.a / 4000).toBeGreaterThan(0.65);
    expect(counts.a / 4000).toBeLessThan(0.75);
  });

  it('renders variables, defaults and the variant text', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `x${i}`);
    const a = ids.find((id) => assignVariant(template, id)!.name === 'a')!;
    const b = ids.find((id) => assignVariant(template, id)!.name === 'b')!;
    expect(renderTemplate(template, a, { company: 'Acme' })).toEqual({
      template: 'support',
      version: '2',
      variant: 'a',
      system: 'You help Acme. Be kind.',
    });
    expect(renderTemplate(template, b, { company: 'Acme', tone: 'brief' }).system).toBe('B: Acme');
  });

  it('reports missing and unknown variables', () => {
    expect(checkVariables(template, { tone: 'x', colour: 'red' })).toEqual([
      'company is required by template support',
      'colour is not a variable of template support',
    ]);
    expect(checkVariables(template, { company: 'Acme' })).toEqual([]);
  });
});

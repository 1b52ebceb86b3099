import type { ToolDefinition } from '@parley/llm';

/**
 * Tools Parley itself provides. A conversation enables them by name like any other; tenants
 * cannot define tools with these names.
 */
export const BUILT_IN_TOOLS: Record<string, ToolDefinition> = {
  knowledge_base_search: {
    name: 'knowledge_base_search',
    description:
      "Search the conversation's knowledge bases. Returns numbered passages to cite as [n].",
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 2000, description: 'What to look for.' },
        topK: { type: 'integer', minimum: 1, maximum: 20, description: 'How many passages.' },
      },
      required: ['query'],
      additionalProperties: false,
    },
  },
  current_time: {
    name: 'current_time',
    description: 'The current date and time, in UTC and, when given, in an IANA time zone.',
    parameters: {
      type: 'object',
      properties: {
        timeZone: { type: 'string', description: 'An IANA time zone, e.g. Europe/Berlin.' },
      },
      additionalProperties: false,
    },
  },
};

export const BUILT_IN_TOOL_NAMES = Object.keys(BUILT_IN_TOOLS);

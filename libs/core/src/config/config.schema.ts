import { z } from 'zod';
import { serverConfig } from './schema/server';
import { databaseConfig } from './schema/database';
import { queueConfig } from './schema/queue';
import { securityConfig } from './schema/security';
import { conversationConfig } from './schema/conversation';
import { costConfig } from './schema/cost';
import { ragConfig } from './schema/rag';
import { audioConfig } from './schema/audio';
import { llmConfig } from './schema/llm';

export { BUDGET_PERIODS, BUDGET_SCOPES, USD_PATTERN } from './schema/primitives';

/**
 * The whole configuration: one strict object per namespace, each declared in schema/<area>.ts
 * with the shared primitives of schema/primitives.ts. Every value comes from config/*.yaml or
 * the environment (config.env.ts maps the variables), validated here.
 */
export const configSchema = z
  .object({
    ...serverConfig,
    ...databaseConfig,
    ...queueConfig,
    ...securityConfig,
    ...conversationConfig,
    ...costConfig,
    ...ragConfig,
    ...audioConfig,
    ...llmConfig,
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;

import { z } from 'zod';
import { bool, int } from './primitives';

/** The `conversation`, `tools` namespaces of the configuration. */
export const conversationConfig = {
  conversation: z.strictObject({
    defaultModel: z.string().min(1),
    systemPrompt: z.string(),
    /** Tokens of history the prompt may carry; older messages are left out whole. */
    memoryTokenBudget: int(100, 1_000_000),
    maxMessageChars: int(1, 1_000_000),
    defaultMaxTokens: int(1, 1_000_000),
    /** Answers to identical first questions, reused (Redis when configured, else in memory). */
    responseCache: z.strictObject({
      enabled: bool,
      ttlSeconds: int(1, 30 * 86_400),
      maxEntries: int(1, 10_000_000),
    }),
  }),
  tools: z.strictObject({
    /**
     * Let HTTP tools reach private, loopback and link-local addresses (an on-premises API).
     * Off, every address a tool's host resolves to must be public (SSRF protection).
     */
    allowPrivateNetworks: bool,
    /** Model turns an agent answer may take (the last one may not call tools). */
    maxIterations: int(1, 50),
    /** Wall-clock budget of an agent answer, tool calls included. */
    wallClockMs: int(1000, 600_000),
    /** Characters of a tool's result given to the model (the rest is cut, and said so). */
    maxResultChars: int(100, 1_000_000),
    /** How long an answer waits for a person to approve a high-risk tool call. */
    approvalTtlSeconds: int(10, 7 * 24 * 3600),
  }),
};

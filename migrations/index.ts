import { SystemSettings1763900000000 } from './1763900000000-SystemSettings';
import { Identity1763900001000 } from './1763900001000-Identity';
import { Conversations1763900002000 } from './1763900002000-Conversations';
import { IdempotencyKeys1763900003000 } from './1763900003000-IdempotencyKeys';
import { PromptTemplates1763900004000 } from './1763900004000-PromptTemplates';
import { CachedMessages1763900005000 } from './1763900005000-CachedMessages';
import { Cost1763900006000 } from './1763900006000-Cost';
import { GuardrailPolicies1763900007000 } from './1763900007000-GuardrailPolicies';
import { KnowledgeBases1763900008000 } from './1763900008000-KnowledgeBases';
import { KbPostings1763900009000 } from './1763900009000-KbPostings';
import { KbVectors1763900010000 } from './1763900010000-KbVectors';
import { Tools1763900011000 } from './1763900011000-Tools';
import { AgentSteps1763900012000 } from './1763900012000-AgentSteps';
import { ToolApprovals1763900013000 } from './1763900013000-ToolApprovals';
import { AudioJobs1763900014000 } from './1763900014000-AudioJobs';
import { JobOutbox1763900015000 } from './1763900015000-JobOutbox';
import { InterruptedMessages1763900016000 } from './1763900016000-InterruptedMessages';
import { AudioJobIdempotencyPerPrincipal1763900017000 } from './1763900017000-AudioJobIdempotencyPerPrincipal';
import { PriceOverrideFloor1763900018000 } from './1763900018000-PriceOverrideFloor';
import { BudgetWindowCarry1763900019000 } from './1763900019000-BudgetWindowCarry';
import { KnowledgeBaseAccess1763900020000 } from './1763900020000-KnowledgeBaseAccess';
import { ToolEnableRoles1763900030000 } from './1763900030000-ToolEnableRoles';

/**
 * Every migration, oldest first. A released migration is never edited: add a new file and
 * append it here.
 */
export const MIGRATIONS = [
  SystemSettings1763900000000,
  Identity1763900001000,
  Conversations1763900002000,
  IdempotencyKeys1763900003000,
  PromptTemplates1763900004000,
  CachedMessages1763900005000,
  Cost1763900006000,
  GuardrailPolicies1763900007000,
  KnowledgeBases1763900008000,
  KbPostings1763900009000,
  KbVectors1763900010000,
  Tools1763900011000,
  AgentSteps1763900012000,
  ToolApprovals1763900013000,
  AudioJobs1763900014000,
  JobOutbox1763900015000,
  InterruptedMessages1763900016000,
  AudioJobIdempotencyPerPrincipal1763900017000,
  PriceOverrideFloor1763900018000,
  BudgetWindowCarry1763900019000,
  KnowledgeBaseAccess1763900020000,
  ToolEnableRoles1763900030000,
];

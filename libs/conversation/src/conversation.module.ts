import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '@parley/auth';
import { CostModule } from '@parley/cost';
import { GuardrailsModule } from '@parley/guardrails';
import { RagModule } from '@parley/rag';
import { ToolsModule } from '@parley/tools';
import { LlmModule } from '@parley/llm';
import { ChatCompletionsController } from './controllers/chat-completions.controller';
import { ConversationsController } from './controllers/conversations.controller';
import { ChatGateway } from './controllers/chat.gateway';
import { ConversationsService } from './conversations.service';
import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';
import { ChatPipeline } from './pipeline/chat-pipeline.service';
import { ChatTurns } from './pipeline/chat-turns.service';
import { TurnResume } from './pipeline/turn-resume.service';
import { TurnLedgers } from './pipeline/turn-ledger.service';
import { TurnStore } from './pipeline/turn.store';
import { ChatCompletions } from './completions/chat-completions.service';
import { ChatMetering } from './pipeline/chat-metering.service';
import { TurnGuards } from './pipeline/turn-guards.service';
import { RetrievalContext } from './pipeline/retrieval-context.service';
import { IdempotencyService } from './idempotency/idempotency.service';
import { ResponseCache } from './cache/response-cache.service';
import { PromptTemplates } from './templates/prompt-templates.service';
import { AgentLoop } from './pipeline/agent-loop.service';
import { ApprovalStore } from './approvals/approval.store';
import { ApprovalRules } from './approvals/approval-rules.service';
import { ToolApprovalsController } from './controllers/tool-approvals.controller';
import { OpenAiSurfaceController } from './controllers/openai-surface.controller';
import { OpenAiEmbeddings } from './completions/openai-embeddings.service';

/**
 * Conversations, messages and the chat pipeline, without routes: what a worker needs to run
 * a turn (a voice turn's chat step).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([ConversationEntity, MessageEntity]),
    AuthModule,
    LlmModule,
    CostModule,
    GuardrailsModule,
    RagModule,
    ToolsModule,
  ],
  providers: [
    ConversationsService,
    ChatTurns,
    ChatPipeline,
    TurnResume,
    TurnLedgers,
    TurnStore,
    AgentLoop,
    ApprovalStore,
    ChatMetering,
    TurnGuards,
    RetrievalContext,
    PromptTemplates,
    ResponseCache,
  ],
  exports: [
    ConversationsService,
    ChatTurns,
    ApprovalStore,
    // For the OpenAI-compatible flow of ConversationModule.
    TurnGuards,
    TurnLedgers,
    AuthModule,
    LlmModule,
    CostModule,
    GuardrailsModule,
    RagModule,
  ],
})
export class ConversationCoreModule {}

/** Conversations over HTTP and WebSocket. */
@Module({
  imports: [ConversationCoreModule],
  controllers: [
    ConversationsController,
    ToolApprovalsController,
    ChatCompletionsController,
    OpenAiSurfaceController,
  ],
  providers: [IdempotencyService, ChatCompletions, OpenAiEmbeddings, ChatGateway, ApprovalRules],
  exports: [ConversationCoreModule],
})
export class ConversationModule {}

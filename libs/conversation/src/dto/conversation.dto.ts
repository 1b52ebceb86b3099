import { TOOL_NAME_PATTERN, TOOL_NAME_RULE } from '@parley/llm';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsUUID,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  Matches,
} from 'class-validator';

export class CreateConversationDto {
  @ApiPropertyOptional({ example: 'Claim 4711' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  title?: string;
  @ApiPropertyOptional({
    description: 'A model alias such as `default`; the configured default when omitted.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;
  @ApiPropertyOptional({ type: Object, description: 'Your own key/value data, returned as given.' })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: [String],
    description:
      'Knowledge bases of your tenant the answers draw on (passages in the prompt, citations on the answer).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsUUID('all', { each: true })
  knowledgeBaseIds?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['knowledge_base_search', 'get_claim_status'],
    description:
      'Tools the model may call: built-ins (knowledge_base_search, current_time) and your tenant’s enabled tools (/v1/admin/tools). ' +
      'Adding a tool needs a role in its `enableRoles` (an API key acts with its creator’s role), else 403 `TOOL_ENABLE_FORBIDDEN` naming the roles that may; tools already on the conversation may stay.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @Matches(TOOL_NAME_PATTERN, { each: true, message: TOOL_NAME_RULE })
  tools?: string[];
}

export class CreateConversationWithTemplateDto extends CreateConversationDto {
  @ApiPropertyOptional({ description: 'A prompt template from config/prompts (e.g. `support`).' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  promptTemplate?: string;

  @ApiPropertyOptional({
    type: Object,
    description: 'Values for the template’s variables, e.g. {"company": "Acme"}.',
  })
  @IsOptional()
  @IsObject()
  templateVariables?: Record<string, string>;
}

export class UpdateConversationDto extends CreateConversationDto {}

export class SendMessageDto {
  @ApiProperty({ example: 'What is the status of my claim?' })
  @IsString()
  @MinLength(1)
  content: string;

  @ApiPropertyOptional({ description: 'Overrides the conversation’s model for this message.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 32768 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32768)
  maxTokens?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 2 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number;
}

export class ConversationDto {
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty() model: string;
  @ApiProperty({ nullable: true, type: String }) promptTemplate: string | null;
  @ApiProperty({ type: Object }) templateVariables: Record<string, string>;
  @ApiProperty({ type: [String] }) knowledgeBaseIds: string[];
  @ApiProperty({ type: [String] }) tools: string[];
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) ownerUserId: string | null;
  @ApiProperty({ nullable: true, type: String }) ownerApiKeyId: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class ConversationPageDto {
  @ApiProperty({ type: [ConversationDto] }) items: ConversationDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class UsageDto {
  @ApiProperty() promptTokens: number;
  @ApiProperty() completionTokens: number;
}

export class MessageDto {
  @ApiProperty() id: string;
  @ApiProperty() conversationId: string;
  @ApiProperty({ enum: ['system', 'user', 'assistant'] }) role: string;
  @ApiProperty() content: string;
  @ApiProperty({
    enum: ['complete', 'aborted', 'failed', 'awaiting_approval', 'interrupted'],
    description:
      "`awaiting_approval`: the answer waits for a person to decide high-risk tool calls (POST /v1/conversations/{id}/tool-approvals/{callId}). `interrupted`: a voice session's caller talked over the answer; `content` is what was spoken before that.",
  })
  status: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: '`parley-extractive` when no model could answer.',
  })
  model: string | null;
  @ApiProperty({ nullable: true, type: String }) provider: string | null;
  @ApiProperty({ type: UsageDto }) usage: UsageDto;
  @ApiProperty({ description: 'Decimal string, USD.' }) costUsd: string;
  @ApiProperty({ description: 'Answered from the response cache: no model call, cost zero.' })
  cached: boolean;
  @ApiProperty({ nullable: true, type: Number }) latencyMs: number | null;
  @ApiProperty({ nullable: true, type: Number }) firstTokenMs: number | null;
  @ApiProperty({ nullable: true, type: String }) finishReason: string | null;
  @ApiProperty({ type: [Object] }) citations: unknown[];
  @ApiProperty({
    nullable: true,
    type: Object,
    description: '{template, version, variant} of the prompt template used.',
  })
  prompt: { template: string; version: string | null; variant: string | null } | null;
  @ApiProperty() createdAt: string;
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageDto] }) items: MessageDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class TurnDto {
  @ApiProperty({ type: MessageDto }) userMessage: MessageDto;
  @ApiProperty({ type: MessageDto }) assistantMessage: MessageDto;
}

export class DecideToolCallDto {
  @ApiProperty({ enum: ['approve', 'reject'], description: 'Run the call, or tell the model no.' })
  @IsIn(['approve', 'reject'], { message: 'decision must be "approve" or "reject"' })
  decision: 'approve' | 'reject';

  @ApiPropertyOptional({
    maxLength: 500,
    description: 'Why (a rejection’s reason is given to the model, and both go to the audit log).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class ToolApprovalDto {
  @ApiProperty({ description: 'The id of the call the model made.' }) callId: string;
  @ApiProperty({ description: 'The answer that waits for it.' }) messageId: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'The arguments, as the JSON text the model sent.' })
  arguments: string;
  @ApiProperty({ enum: ['pending', 'approved', 'rejected', 'expired'] }) status: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ nullable: true, type: String }) decidedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Until when a pending call may be decided (TOOL_APPROVAL_TTL_SECONDS).',
  })
  expiresAt: string | null;
  @ApiProperty() createdAt: string;
}

export class ToolApprovalListDto {
  @ApiProperty({ type: [ToolApprovalDto] }) items: ToolApprovalDto[];
}

export class ToolApprovalWaitingDto {
  @ApiProperty({ type: ToolApprovalDto }) approval: ToolApprovalDto;
  @ApiProperty({
    type: [String],
    description: 'Calls of the same answer still to decide; it goes on once they are.',
  })
  pending: string[];
}

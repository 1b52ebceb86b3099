import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TOOL_NAME_PATTERN, TOOL_NAME_RULE } from '@parley/llm';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  Equals,
} from 'class-validator';

const FUNCTION_NAME = TOOL_NAME_PATTERN;
const FUNCTION_NAME_MESSAGE = TOOL_NAME_RULE;

export class ToolCallFunctionDto {
  @ApiProperty()
  @IsString()
  @Matches(FUNCTION_NAME, { message: FUNCTION_NAME_MESSAGE })
  name: string;
  @ApiProperty({ description: 'The arguments as JSON text.' })
  @IsString()
  @MaxLength(100_000)
  arguments: string;
}

export class ToolCallDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) id: string;
  @ApiProperty({ enum: ['function'] })
  @Equals('function', { message: "type must be 'function'" })
  type: 'function';
  @ApiProperty({ type: ToolCallFunctionDto })
  @ValidateNested()
  @Type(() => ToolCallFunctionDto)
  function: ToolCallFunctionDto;
}

export class ChatCompletionMessageDto {
  @ApiProperty({ enum: ['system', 'developer', 'user', 'assistant', 'tool'] })
  @IsIn(['system', 'developer', 'user', 'assistant', 'tool'], {
    message: 'role must be system, developer, user, assistant or tool',
  })
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';

  @ApiPropertyOptional({
    description:
      'Text, or an array of parts of which the `text` ones are used; null on an assistant message that only calls tools.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }],
    nullable: true,
  })
  @Allow()
  content?: string | { type: string; text?: string }[] | null;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) name?: string;

  @ApiPropertyOptional({ type: [ToolCallDto], description: 'On assistant messages.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => ToolCallDto)
  tool_calls?: ToolCallDto[];

  // Sent back by clients that echo an assistant message as they received it; accepted, unused.
  @IsOptional() @Allow() refusal?: string | null;
  @IsOptional() @Allow() annotations?: unknown[];
  @IsOptional() @Allow() audio?: unknown;
  @IsOptional() @Allow() function_call?: unknown;

  @ApiPropertyOptional({ description: 'On tool messages: the call this result answers.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  tool_call_id?: string;
}

export class FunctionDefinitionDto {
  @ApiProperty()
  @IsString()
  @Matches(FUNCTION_NAME, { message: FUNCTION_NAME_MESSAGE })
  name: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(4096) description?: string;
  @ApiPropertyOptional({ type: Object, description: 'JSON Schema of the arguments.' })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() strict?: boolean;
}

export class ToolDto {
  @ApiProperty({ enum: ['function'] })
  @Equals('function', { message: "type must be 'function'" })
  type: 'function';
  @ApiProperty({ type: FunctionDefinitionDto })
  @ValidateNested()
  @Type(() => FunctionDefinitionDto)
  function: FunctionDefinitionDto;
}

export class StreamOptionsDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() include_usage?: boolean;
}

/**
 * The OpenAI chat completions request. Sampling knobs Parley does not forward yet are accepted
 * and ignored, so existing clients work unchanged.
 */
export class ChatCompletionRequestDto {
  @ApiProperty({ example: 'default', description: 'A Parley model alias (or provider/model).' })
  @IsString()
  @MaxLength(200)
  model: string;

  @ApiProperty({ type: [ChatCompletionMessageDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ChatCompletionMessageDto)
  messages: ChatCompletionMessageDto[];

  @ApiPropertyOptional({
    type: [ToolDto],
    description:
      'Your own functions, passed to the model unchanged; its tool_calls come back to you to run (send the results as role "tool" messages).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => ToolDto)
  tools?: ToolDto[];

  @ApiPropertyOptional({
    description: '"none", "auto", "required", or {"type": "function", "function": {"name": …}}.',
    oneOf: [{ type: 'string', enum: ['none', 'auto', 'required'] }, { type: 'object' }],
  })
  @IsOptional()
  @Allow()
  tool_choice?: 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

  @ApiPropertyOptional() @IsOptional() @IsBoolean() parallel_tool_calls?: boolean;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() stream?: boolean;
  @ApiPropertyOptional({ type: StreamOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(131072) max_tokens?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(131072) max_completion_tokens?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) @Max(2) temperature?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(256) user?: string;
  @ApiPropertyOptional({ description: 'Only 1 is supported.' })
  @IsOptional()
  @Equals(1, { message: 'n must be 1' })
  n?: number;
  @ApiPropertyOptional({
    description: '`conversation_id` stores the exchange in that conversation.',
    type: Object,
  })
  @IsOptional()
  @IsObject()
  metadata?: { conversation_id?: string } & Record<string, unknown>;
  // Accepted for compatibility; not forwarded yet.
  @IsOptional() @IsNumber() top_p?: number;
  @IsOptional() @IsNumber() presence_penalty?: number;
  @IsOptional() @IsNumber() frequency_penalty?: number;
  @IsOptional() @IsInt() seed?: number;
  @IsOptional() @Allow() stop?: string | string[];
  @IsOptional() @IsObject() response_format?: Record<string, unknown>;
  @IsOptional() @IsBoolean() store?: boolean;
}

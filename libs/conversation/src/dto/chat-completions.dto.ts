import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  Equals,
} from 'class-validator';

export class ChatCompletionMessageDto {
  @ApiProperty({ enum: ['system', 'developer', 'user', 'assistant'] })
  @IsIn(['system', 'developer', 'user', 'assistant'], {
    message: 'role must be system, developer, user or assistant (tool calls are not supported yet)',
  })
  role: 'system' | 'developer' | 'user' | 'assistant';

  @ApiProperty({
    description: 'Text, or an array of parts of which the `text` ones are used.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }],
  })
  @Allow()
  content: string | { type: string; text?: string }[];

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) name?: string;
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

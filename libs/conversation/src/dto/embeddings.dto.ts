import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** OpenAI's embeddings request (token-array inputs are not taken: send text). */
export class EmbeddingsRequestDto {
  @ApiProperty({
    description: 'A text, or up to 2048 texts, to embed.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
  })
  @Allow()
  input: unknown;

  @ApiProperty({
    description: 'An embedding model or alias Parley serves (EMBEDDING_MODEL is the default).',
  })
  @IsString()
  @MaxLength(200)
  model: string;

  @ApiPropertyOptional({ enum: ['float', 'base64'], default: 'float' })
  @IsOptional()
  @IsIn(['float', 'base64'])
  encoding_format?: 'float' | 'base64';

  @ApiPropertyOptional({ description: 'Ignored: EMBEDDING_DIMENSIONS decides the vector size.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65_536)
  dimensions?: number;

  @ApiPropertyOptional({ description: 'An end-user id (not sent upstream).' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;
}

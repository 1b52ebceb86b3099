import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import {
  KNOWLEDGE_BASE_ACCESS,
  KNOWLEDGE_BASE_PERMISSIONS,
  type KnowledgeBaseAccessSetting,
  type KnowledgeBasePermission,
} from '../knowledge-bases/knowledge-base-access.service';
import { TEXT_SEARCH_LANGUAGES } from '../rag.errors';

const ACCESS_DESCRIPTION =
  'What everyone in your tenant may do with it: `private` (nobody but its owner, users granted access, and tenant admins), `tenant:read` (everyone may read and search it), `tenant:write` (everyone may also add, re-ingest and delete documents). Changing settings or access and deleting it always needs manage: its owner, a tenant admin, or a manage grant.';

export class CreateKnowledgeBaseDto {
  @ApiProperty({ example: 'Support handbook' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ example: 'Refunds, shipping and warranty policies.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({
    enum: TEXT_SEARCH_LANGUAGES,
    default: 'english',
    description: 'Drives stemming and stop words of lexical search.',
  })
  @IsOptional()
  @IsIn(TEXT_SEARCH_LANGUAGES)
  language?: string;

  @ApiPropertyOptional({
    minimum: 32,
    maximum: 8192,
    description: 'Chunk size in tokens (RAG_CHUNK_TOKENS by default).',
  })
  @IsOptional()
  @IsInt()
  @Min(32)
  @Max(8192)
  chunkTokens?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 4096,
    description: 'Tokens repeated from the previous chunk.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4096)
  chunkOverlap?: number;

  @ApiPropertyOptional({
    example: 'text-embedding-3-small',
    description:
      'Embedding model (alias, `provider/model` or model name) for vector and hybrid search; EMBEDDING_MODEL when absent.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  embeddingModel?: string;

  @ApiPropertyOptional({
    enum: KNOWLEDGE_BASE_ACCESS,
    description: `${ACCESS_DESCRIPTION} Defaults to your tenant's \`defaultAccess\` (GET /v1/admin/knowledge-base-settings; \`tenant:read\` unless an admin changed it).`,
  })
  @IsOptional()
  @IsIn(KNOWLEDGE_BASE_ACCESS)
  access?: KnowledgeBaseAccessSetting;
}

export class UpdateKnowledgeBaseDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ enum: KNOWLEDGE_BASE_ACCESS, description: ACCESS_DESCRIPTION })
  @IsOptional()
  @IsIn(KNOWLEDGE_BASE_ACCESS)
  access?: KnowledgeBaseAccessSetting;
}

export class KnowledgeBaseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: TEXT_SEARCH_LANGUAGES }) language: string;
  @ApiProperty() chunkTokens: number;
  @ApiProperty() chunkOverlap: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Its own embedding model; null means EMBEDDING_MODEL.',
  })
  embeddingModel: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Vector size, fixed by the first embedded document.',
  })
  embeddingDimensions: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The provider/model its vectors came from, fixed by the first embedded document.',
  })
  embeddingSignature: string | null;
  @ApiProperty({ description: 'Changes whenever the content changes.' }) version: number;
  @ApiProperty() chunkCount: number;
  @ApiProperty({ enum: KNOWLEDGE_BASE_ACCESS, description: ACCESS_DESCRIPTION })
  access: KnowledgeBaseAccessSetting;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description:
      'The user who created it (for an API key, the key’s creator); the owner manages it. Null for knowledge bases made before owners were recorded: tenant admins manage those.',
  })
  ownerUserId: string | null;
  @ApiProperty({
    enum: KNOWLEDGE_BASE_PERMISSIONS,
    description:
      'What you may do with it: `read` (read, search, use in conversations), `write` (also add, re-ingest and delete documents) or `manage` (also change settings, access and grants, delete it). For an API key: its creator’s access, and at most `read` without the `rag:write` scope.',
  })
  permission: KnowledgeBasePermission;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class KnowledgeBasePageDto {
  @ApiProperty({ type: [KnowledgeBaseDto] }) items: KnowledgeBaseDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class GrantDto {
  @ApiProperty({
    enum: KNOWLEDGE_BASE_PERMISSIONS,
    description:
      '`read`: read and search; `write`: also add, re-ingest and delete documents; `manage`: also change settings, access and grants, and delete the knowledge base.',
  })
  @IsIn(KNOWLEDGE_BASE_PERMISSIONS)
  permission: KnowledgeBasePermission;
}

export class KnowledgeBaseGrantDto {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ enum: KNOWLEDGE_BASE_PERMISSIONS }) permission: KnowledgeBasePermission;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class KnowledgeBaseGrantListDto {
  @ApiProperty({ type: [KnowledgeBaseGrantDto] }) items: KnowledgeBaseGrantDto[];
}

export class KnowledgeBaseSettingsDto {
  @ApiProperty({
    enum: KNOWLEDGE_BASE_ACCESS,
    default: 'tenant:read',
    description:
      'The `access` of new knowledge bases whose creator gives none. Existing knowledge bases keep theirs.',
  })
  @IsIn(KNOWLEDGE_BASE_ACCESS)
  defaultAccess: KnowledgeBaseAccessSetting;
}

export class AddDocumentDto {
  @ApiProperty({ example: 'Refund policy' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  title: string;

  @ApiProperty({ example: '# Refunds\nRefunds take five to seven working days…' })
  @IsString()
  @MinLength(1)
  text: string;

  @ApiPropertyOptional({
    type: Object,
    description: 'Your own key/value data, returned with results.',
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class DocumentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) knowledgeBaseId: string;
  @ApiProperty() title: string;
  @ApiProperty() contentType: string;
  @ApiProperty() sizeBytes: number;
  @ApiProperty({ description: 'SHA-256 of the content.' }) checksum: string;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
  @ApiProperty({ enum: ['pending', 'processing', 'ready', 'failed'] }) status: string;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty() chunkCount: number;
  @ApiPropertyOptional({
    description: 'True when the same content was already in the knowledge base.',
  })
  duplicate?: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class DocumentPageDto {
  @ApiProperty({ type: [DocumentDto] }) items: DocumentDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class SearchDto {
  @ApiProperty({ example: 'How long does a refund take?' })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  query: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 5 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  topK?: number;

  @ApiPropertyOptional({
    enum: ['hybrid', 'lexical', 'vector'],
    default: 'hybrid',
    description:
      'hybrid fuses BM25 and vector rankings by reciprocal rank; it runs as lexical (and says why in `notice`) where there is no vector store or embedding model. vector there is a 422.',
  })
  @IsOptional()
  @IsIn(['hybrid', 'lexical', 'vector'])
  mode?: 'hybrid' | 'lexical' | 'vector';

  @ApiPropertyOptional({
    type: Object,
    example: { lang: 'en', product: 'jackets' },
    description: 'Only documents whose metadata contains all these key/values (JSON containment).',
  })
  @IsOptional()
  @IsObject()
  filter?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'Drop results scoring below this (BM25 for lexical, cosine for vector, RRF for hybrid).',
  })
  @IsOptional()
  @IsNumber()
  minScore?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description:
      'Maximal marginal relevance λ: 1 (or absent) ranks by relevance only; lower values skip passages that repeat ones already chosen.',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  diversity?: number;
}

export class SearchResultDto {
  @ApiProperty({ format: 'uuid' }) chunkId: string;
  @ApiProperty({ format: 'uuid' }) documentId: string;
  @ApiProperty() title: string;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
  @ApiProperty() ordinal: number;
  @ApiProperty({ description: 'Character offset of the chunk in its document.' }) start: number;
  @ApiProperty() end: number;
  @ApiProperty() text: string;
  @ApiProperty({
    description:
      'BM25 (lexical), cosine similarity (vector) or reciprocal-rank-fusion score (hybrid).',
  })
  score: number;
  @ApiPropertyOptional({
    type: Object,
    example: { lexical: 1, vector: 3 },
    description: 'Hybrid only: 1-based rank in each ranking (absent where not found).',
  })
  ranks?: { lexical?: number; vector?: number };
}

export class SearchResponseDto {
  @ApiProperty({ enum: ['hybrid', 'lexical', 'vector'], description: 'The mode that ran.' })
  mode: string;
  @ApiProperty({ enum: ['pgvector', 'qdrant', 'none'] }) vectorStore: string;
  @ApiPropertyOptional({ description: 'Why the mode that ran is not the one asked for.' })
  notice?: string;
  @ApiProperty({ type: [SearchResultDto] }) results: SearchResultDto[];
}

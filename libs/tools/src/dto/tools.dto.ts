import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type Role, ROLES } from '@parley/auth';
import { TOOL_NAME_PATTERN, TOOL_NAME_RULE } from '@parley/llm';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { HTTP_METHODS } from '../registry/tools.service';

const ENABLE_ROLES_DESCRIPTION =
  "The roles that may enable the tool on a conversation (POST/PATCH /v1/conversations `tools`); an API key acts with its creator's role. " +
  'Admins always may. Anyone else: 403 `TOOL_ENABLE_FORBIDDEN`, naming the roles that may.';

export class HttpToolDto {
  @ApiProperty({ enum: HTTP_METHODS }) @IsIn(HTTP_METHODS) method: (typeof HTTP_METHODS)[number];

  @ApiProperty({
    example: 'https://api.example.com/claims/{claimId}',
    description:
      'Placeholders {name} are filled from the arguments (URL-encoded), in the path and query only. The host must be on your allowed hosts. ' +
      'The path may not contain "." or ".." segments (nor %2e, %2E) or backslashes; an argument that would make one, or put a slash (also percent-encoded) into the path, ' +
      'fails the call with `TOOL_PATH_ARGUMENT_REFUSED` and nothing is sent. Arguments not used by placeholders are sent as the JSON body (POST, PUT, PATCH) or the query string (GET, DELETE).',
  })
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiPropertyOptional({ type: Object, example: { accept: 'application/json' } })
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;
}

export class CreateToolDto {
  @ApiProperty({ example: 'get_claim_status' })
  @IsString()
  @Matches(TOOL_NAME_PATTERN, { message: TOOL_NAME_RULE })
  name: string;

  @ApiProperty({ example: 'The status of an insurance claim, by its id.' })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  description: string;

  @ApiProperty({
    type: Object,
    description: 'JSON Schema (type object) of the arguments; checked with Ajv on every call.',
    example: { type: 'object', properties: { claimId: { type: 'string' } }, required: ['claimId'] },
  })
  @IsObject()
  parameters: Record<string, unknown>;

  @ApiProperty({ type: HttpToolDto })
  @ValidateNested()
  @Type(() => HttpToolDto)
  http: HttpToolDto;

  @ApiPropertyOptional({
    type: Object,
    example: { authorization: 'Bearer sk-…' },
    description:
      'Header values stored encrypted (needs MESSAGE_ENCRYPTION_KEYS) and never returned; only their names are.',
  })
  @IsOptional()
  @IsObject()
  secretHeaders?: Record<string, string>;

  @ApiPropertyOptional({
    enum: ['low', 'high'],
    description:
      'high: each call waits for a person (not the one who asked) to approve it. Default by method: `low` for GET, `high` for POST, PUT, PATCH and DELETE. ' +
      '`low` on a method other than GET is taken only from a person (an admin logged in); an API key gets 403 `INTERACTIVE_SESSION_REQUIRED`.',
  })
  @IsOptional()
  @IsIn(['low', 'high'])
  risk?: 'low' | 'high';

  @ApiPropertyOptional({ default: false, description: 'Safe to retry after a failure.' })
  @IsOptional()
  @IsBoolean()
  idempotent?: boolean;

  @ApiPropertyOptional({ minimum: 100, maximum: 60000, default: 10000 })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1048576, default: 65536 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024 * 1024)
  maxResponseBytes?: number;

  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;

  @ApiPropertyOptional({
    enum: ROLES,
    isArray: true,
    default: ['admin'],
    example: ['admin', 'member'],
    description: ENABLE_ROLES_DESCRIPTION,
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(ROLES, { each: true })
  enableRoles?: Role[];
}

export class UpdateToolDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(TOOL_NAME_PATTERN, { message: TOOL_NAME_RULE })
  name?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  description?: string;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() parameters?: Record<
    string,
    unknown
  >;
  @ApiPropertyOptional({ type: HttpToolDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => HttpToolDto)
  http?: HttpToolDto;
  @ApiPropertyOptional({
    type: Object,
    description:
      'Replaces all secret headers. Without it, a new http.url on another origin (scheme, host, port) drops the stored ones (`secretHeadersCleared: true`).',
  })
  @IsOptional()
  @IsObject()
  secretHeaders?: Record<string, string>;
  @ApiPropertyOptional({
    enum: ['low', 'high'],
    description:
      'Never lowered implicitly: a new non-GET method without `risk` makes a low-risk tool high. `low` on a non-GET tool only from a person (API keys: 403 `INTERACTIVE_SESSION_REQUIRED`).',
  })
  @IsOptional()
  @IsIn(['low', 'high'])
  risk?: 'low' | 'high';
  @ApiPropertyOptional() @IsOptional() @IsBoolean() idempotent?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(100) @Max(60_000) timeoutMs?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(1024 * 1024) maxResponseBytes?: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({ enum: ROLES, isArray: true, description: ENABLE_ROLES_DESCRIPTION })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(ROLES, { each: true })
  enableRoles?: Role[];
}

export class ToolDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: Object }) parameters: Record<string, unknown>;
  @ApiProperty({ enum: ['http'] }) kind: string;
  @ApiProperty({
    type: Object,
    description: '{method, url, headers, secretHeaderNames}',
  })
  http: Record<string, unknown>;
  @ApiProperty({ enum: ['low', 'high'] }) risk: string;
  @ApiProperty() idempotent: boolean;
  @ApiProperty() timeoutMs: number;
  @ApiProperty() maxResponseBytes: number;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ enum: ROLES, isArray: true, description: ENABLE_ROLES_DESCRIPTION })
  enableRoles: string[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

/** What PATCH /v1/admin/tools/:id answers. */
export class UpdatedToolDto extends ToolDto {
  @ApiProperty({
    description:
      'True when this update moved http.url to another origin (scheme, host or port) without new `secretHeaders`: the stored secret headers were dropped, and calls go without them until an admin enters them again.',
  })
  secretHeadersCleared: boolean;
}

export class ToolPageDto {
  @ApiProperty({ type: [ToolDto] }) items: ToolDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ToolSettingsDto {
  @ApiProperty({
    type: [String],
    example: ['api.example.com', '*.internal-api.example.com'],
    description:
      'Hosts your HTTP tools may call: exact names or *.domain. Private, loopback and link-local addresses stay refused after DNS resolution unless the operator allows them (TOOLS_ALLOW_PRIVATE_NETWORKS).',
  })
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  allowedHosts: string[];
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BUDGET_PERIODS, BUDGET_SCOPES, USD_PATTERN } from '@parley/core';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

const USD_MESSAGE = '$property must be a dollar amount as a decimal string, e.g. "100" or "0.50"';
const usdExample = (example: string, description: string) => ({
  type: String,
  example,
  description: `${description} US dollars as a decimal string (at most 9 decimals).`,
});

export class BudgetDto {
  @ApiProperty({ enum: BUDGET_SCOPES })
  @IsIn(BUDGET_SCOPES)
  scope: (typeof BUDGET_SCOPES)[number];

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The tenant, user or API key id; omitted for `global` (and for your own tenant).',
  })
  @IsOptional()
  @IsUUID()
  scopeId?: string | null;

  @ApiProperty({ enum: BUDGET_PERIODS })
  @IsIn(BUDGET_PERIODS)
  period: (typeof BUDGET_PERIODS)[number];

  @ApiProperty(usdExample('100', 'The most this scope may spend per window.'))
  @IsString()
  @Matches(USD_PATTERN, { message: USD_MESSAGE })
  limitUsd: string;

  @ApiPropertyOptional({
    ...usdExample('0.50', 'The most one request may cost (its worst case).'),
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @Matches(USD_PATTERN, { message: USD_MESSAGE })
  perRequestLimitUsd?: string | null;
}

export class PutBudgetsDto {
  @ApiProperty({ type: [BudgetDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => BudgetDto)
  budgets: BudgetDto[];
}

export class BudgetRuleDto extends BudgetDto {
  @ApiProperty({ enum: ['default', 'override'] })
  source: 'default' | 'override';
}

export class BudgetListDto {
  @ApiProperty({ type: [BudgetRuleDto], description: 'Overrides set by admins.' })
  budgets: BudgetRuleDto[];
  @ApiProperty({ type: [BudgetRuleDto], description: 'The defaults of config (cost.budgets).' })
  defaults: BudgetRuleDto[];
}

export class DeleteBudgetQueryDto {
  @ApiProperty({ enum: BUDGET_SCOPES })
  @IsIn(BUDGET_SCOPES)
  scope: (typeof BUDGET_SCOPES)[number];

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  scopeId?: string;

  @ApiProperty({ enum: BUDGET_PERIODS })
  @IsIn(BUDGET_PERIODS)
  period: (typeof BUDGET_PERIODS)[number];
}

export class BudgetStatusQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'A user of your tenant: their budgets (and the tenant’s).',
  })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'An API key of your tenant: its budgets (and the tenant’s).',
  })
  @IsOptional()
  @IsUUID()
  apiKeyId?: string;
}

export class BudgetStatusDto {
  @ApiProperty({ enum: BUDGET_SCOPES }) scope: string;
  @ApiProperty({ type: String, nullable: true }) scopeId: string | null;
  @ApiProperty({ enum: BUDGET_PERIODS }) period: string;
  @ApiProperty({ example: 'day:2026-11-23' }) window: string;
  @ApiProperty({ example: '100.000000000' }) limitUsd: string;
  @ApiProperty({ type: String, nullable: true }) perRequestLimitUsd: string | null;
  @ApiProperty() spentUsd: string;
  @ApiProperty() reservedUsd: string;
  @ApiProperty() remainingUsd: string;
  @ApiProperty({ format: 'date-time' }) resetsAt: string;
  @ApiProperty({ enum: ['default', 'override'] }) source: string;
}

export class BudgetStatusListDto {
  @ApiProperty({ type: [BudgetStatusDto] }) items: BudgetStatusDto[];
}

export class ModelPriceDto {
  @ApiProperty({ example: 'gpt-4o-mini' }) model: string;
  @ApiProperty({ example: '0.150000000' }) inputPerMTok: string;
  @ApiProperty({ example: '0.075000000' }) cachedInputPerMTok: string;
  @ApiProperty({ example: '0.600000000' }) outputPerMTok: string;
  @ApiProperty({ enum: ['config', 'tenant'] }) source: string;
}

export class ModelPriceListDto {
  @ApiProperty({ type: [ModelPriceDto] }) items: ModelPriceDto[];
}

export class PutPriceDto {
  @ApiProperty(usdExample('0.15', 'Per million input tokens.'))
  @IsString()
  @Matches(USD_PATTERN, { message: USD_MESSAGE })
  inputPerMTok: string;

  @ApiProperty(usdExample('0.60', 'Per million output tokens.'))
  @IsString()
  @Matches(USD_PATTERN, { message: USD_MESSAGE })
  outputPerMTok: string;

  @ApiPropertyOptional(
    usdExample('0.075', 'Per million cached input tokens; the input price when omitted.'),
  )
  @IsOptional()
  @IsString()
  @Matches(USD_PATTERN, { message: USD_MESSAGE })
  cachedInputPerMTok?: string;
}

export class TenantQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Another tenant (superadmins only).' })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}

export class CostSettingsDto {
  @ApiPropertyOptional({
    example: 'Europe/Berlin',
    description:
      'IANA zone in which day and month windows start. A change applies from the end of the windows open at the time, so it never reopens a spent one.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timeZone?: string;

  @ApiPropertyOptional({
    description:
      'Admit requests when the budget store cannot be reached (each admission is counted and audited). Superadmin only.',
  })
  @IsOptional()
  @IsBoolean()
  failOpen?: boolean;
}

const USAGE_GROUPS = ['day', 'model'] as const;
const ADMIN_USAGE_GROUPS = ['day', 'model', 'user', 'apiKey'] as const;

class UsageRangeDto {
  @ApiPropertyOptional({
    example: '2026-11-01',
    description: 'Start (inclusive), an ISO date or date-time; 30 days before `to` by default.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-12-01',
    description: 'End (exclusive), an ISO date or date-time; now by default.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class UsageQueryDto extends UsageRangeDto {
  @ApiPropertyOptional({ enum: USAGE_GROUPS, default: 'day' })
  @IsOptional()
  @IsIn(USAGE_GROUPS)
  groupBy?: (typeof USAGE_GROUPS)[number];
}

export class AdminUsageQueryDto extends UsageRangeDto {
  @ApiPropertyOptional({ enum: ADMIN_USAGE_GROUPS, default: 'day' })
  @IsOptional()
  @IsIn(ADMIN_USAGE_GROUPS)
  groupBy?: (typeof ADMIN_USAGE_GROUPS)[number];
}

export class UsageRowDto {
  @ApiProperty({ description: 'The day, model, user id or API key id.' }) key: string;
  @ApiProperty() requests: number;
  @ApiProperty() promptTokens: number;
  @ApiProperty() completionTokens: number;
  @ApiProperty() cachedTokens: number;
  @ApiProperty({ example: '0.000' }) audioSeconds: string;
  @ApiProperty() characters: number;
  @ApiProperty({ example: '0.001234000' }) costUsd: string;
}

export class UsageReportDto {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ enum: ADMIN_USAGE_GROUPS }) groupBy: string;
  @ApiProperty({ type: [UsageRowDto] }) items: UsageRowDto[];
  @ApiProperty({ type: UsageRowDto }) totals: Omit<UsageRowDto, 'key'>;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDate,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { CursorQueryDto } from '@parley/core';
import { ROLES, type Role } from '../auth.constants';
import { AUDIT_ACTIONS } from '../audit/audit.actions';

export class CreateUserDto {
  @ApiProperty() @IsEmail() @MaxLength(320) email: string;
  @ApiProperty({ description: '12 to 128 characters; not a commonly used password.' })
  @IsString()
  @MaxLength(1024)
  password: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role: Role;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) name: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: Role;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() disabled?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(200) name?: string;
}

export class UserDto {
  @ApiProperty() id: string;
  @ApiProperty() tenantId: string;
  @ApiProperty() email: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty() superadmin: boolean;
  @ApiProperty() disabled: boolean;
  @ApiProperty({ nullable: true, type: String }) lastLoginAt: string | null;
  @ApiProperty() createdAt: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class CreateTenantDto {
  @ApiProperty({ description: 'The tenant name, used as `tenant` at login.', example: 'acme' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/, {
    message:
      'name must be 2-63 lower-case letters, digits or dashes, starting with a letter or digit',
  })
  name: string;

  @ApiPropertyOptional({ example: 'Acme Corp' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  displayName?: string;
  @ApiProperty() @IsEmail() @MaxLength(320) adminEmail: string;
  @ApiProperty() @IsString() @MaxLength(1024) adminPassword: string;
}

export class TenantDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() displayName: string;
  @ApiProperty() createdAt: string;
}

export class CreatedTenantDto {
  @ApiProperty({ type: TenantDto }) tenant: TenantDto;
  @ApiProperty({ type: UserDto }) admin: UserDto;
}

export class TenantPageDto {
  @ApiProperty({ type: [TenantDto] }) items: TenantDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class AuditQueryDto extends CursorQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, example: 'auth.login.failed' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;
  @ApiPropertyOptional({ description: 'A user or API key id.' })
  @IsOptional()
  @IsUUID()
  actorId?: string;
  @ApiPropertyOptional({ description: 'ISO 8601, inclusive.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  from?: Date;
  @ApiPropertyOptional({ description: 'ISO 8601, inclusive.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  to?: Date;
}

export class AuditLogDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: string;
  @ApiProperty({ nullable: true, type: String }) actorUserId: string | null;
  @ApiProperty({ nullable: true, type: String }) actorApiKeyId: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent: string | null;
  @ApiProperty({ nullable: true, type: String }) targetType: string | null;
  @ApiProperty({ nullable: true, type: String }) targetId: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
  @ApiProperty() createdAt: string;
}

export class AuditLogPageDto {
  @ApiProperty({ type: [AuditLogDto] }) items: AuditLogDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEmail,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'admin@example.com' })
  @IsEmail()
  @MaxLength(320)
  email: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({
    description: 'The tenant name (slug); the default tenant when omitted.',
    example: 'acme',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/i, {
    message: 'tenant must be a tenant name: letters, digits and dashes',
  })
  tenant?: string;

  @ApiPropertyOptional({
    description:
      'For browser apps on this origin (the console): set the refresh token as an httpOnly, ' +
      '`SameSite=Strict` cookie scoped to /v1/auth instead of returning it. Needs an `Origin` ' +
      'header naming this server (or a configured CORS origin).',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  cookie?: boolean;
}

export class RefreshDto {
  @ApiPropertyOptional({
    description:
      'The refresh token from login or the previous refresh. Leave it out to use the session ' +
      'cookie of a browser login (`cookie: true`).',
  })
  @IsOptional()
  @IsString()
  @MinLength(20)
  @MaxLength(200)
  refreshToken?: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MaxLength(1024)
  currentPassword: string;

  @ApiProperty({ description: '12 to 128 characters; not a commonly used password.' })
  @IsString()
  @MaxLength(1024)
  newPassword: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'A JWT to send as `Authorization: Bearer …`.' })
  accessToken: string;

  @ApiProperty({ description: 'Opaque; exchange it at POST /v1/auth/refresh. Single use.' })
  refreshToken: string;

  @ApiProperty({ description: 'Seconds until the access token expires.', example: 900 })
  expiresIn: number;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';
}

/** A browser session's tokens: the refresh token went into the session cookie. */
export class SessionTokenDto {
  @ApiProperty({ description: 'A JWT to send as `Authorization: Bearer …`; keep it in memory.' })
  accessToken: string;

  @ApiProperty({ description: 'Seconds until the access token expires.', example: 900 })
  expiresIn: number;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';
}

export class PrincipalDto {
  @ApiProperty({ enum: ['user', 'apiKey'] })
  kind: 'user' | 'apiKey';

  @ApiProperty()
  tenantId: string;

  @ApiPropertyOptional()
  userId?: string;

  @ApiPropertyOptional()
  apiKeyId?: string;

  @ApiPropertyOptional({ enum: ['admin', 'member'] })
  role?: string;

  @ApiProperty({ type: [String] })
  scopes: string[];

  @ApiProperty()
  superadmin: boolean;
}

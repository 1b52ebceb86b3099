import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

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
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from login or the previous refresh.' })
  @IsString()
  @MinLength(20)
  @MaxLength(200)
  refreshToken: string;
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

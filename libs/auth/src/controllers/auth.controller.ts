import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { Public } from '@parley/core';
import type { Repository } from 'typeorm';
import { UsersService } from '../admin/users.service';
import { ForbiddenError, InvalidCredentialsError } from '../auth.errors';
import {
  ChangePasswordDto,
  LoginDto,
  PrincipalDto,
  RefreshDto,
  TokenPairDto,
} from '../dto/auth.dto';
import { UserEntity } from '../entities/user.entity';
import { Authorize } from '../guards/authorize.decorator';
import { CurrentPrincipal } from '../guards/current-principal';
import { PasswordHasher } from '../passwords/password.hasher';
import type { Principal } from '../principal';
import { RateLimit } from '../rate-limit/rate-limit-group.decorator';
import { AuthService, type TokenPair } from '../sessions/auth.service';

@ApiTags('auth')
@RateLimit('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly principal: CurrentPrincipal,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    @InjectRepository(UserEntity) private readonly userRepo: Repository<UserEntity>,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in with email and password; returns an access token and a refresh token.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({
    description:
      '`INVALID_CREDENTIALS`: tenant, email or password is wrong (deliberately not said which).',
  })
  login(@Body() body: LoginDto): Promise<TokenPair> {
    return this.auth.login(body);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Exchange a refresh token for a new pair. Each refresh token works once; reusing one revokes the session.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: '`REFRESH_TOKEN_INVALID` or `REFRESH_TOKEN_REUSED`.' })
  refresh(@Body() body: RefreshDto): Promise<TokenPair> {
    return this.auth.refresh(body.refreshToken);
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the session the refresh token belongs to.' })
  async logout(@Body() body: RefreshDto): Promise<void> {
    await this.auth.logout(body.refreshToken);
  }

  @Get('me')
  @Authorize({ role: 'member', scope: '*' })
  @ApiOperation({ summary: 'Who the credentials belong to.' })
  @ApiOkResponse({ type: PrincipalDto })
  me(): Principal {
    return this.principal.get();
  }

  @Post('password')
  @HttpCode(204)
  @Authorize({ role: 'member' })
  @ApiOperation({ summary: 'Change your password; every other session of yours ends.' })
  async changePassword(@Body() body: ChangePasswordDto): Promise<void> {
    const principal = this.principal.get();
    if (!principal.userId) throw new ForbiddenError();
    const user = await this.userRepo.findOne({
      where: { id: principal.userId },
      select: { id: true, passwordHash: true },
    });
    if (!(await this.hasher.verify(user?.passwordHash, body.currentPassword)))
      throw new InvalidCredentialsError();
    await this.users.changePassword(principal.tenantId, principal.userId, body.newPassword);
  }
}

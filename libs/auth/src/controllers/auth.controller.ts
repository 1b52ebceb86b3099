import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { Public, SESSION_COOKIE_AUTH, ValidationFailedError } from '@parley/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Repository } from 'typeorm';
import { UsersService } from '../admin/users.service';
import { ForbiddenError, InvalidCredentialsError } from '../auth.errors';
import {
  ChangePasswordDto,
  LoginDto,
  PrincipalDto,
  RefreshDto,
  SessionTokenDto,
  TokenPairDto,
} from '../dto/auth.dto';
import { UserEntity } from '../entities/user.entity';
import { Authorize } from '../guards/authorize.decorator';
import { CurrentPrincipal } from '../guards/current-principal.service';
import { PasswordHasher } from '../passwords/password.hasher';
import type { Principal } from '../principal';
import { RateLimit } from '../rate-limit/rate-limit-group.decorator';
import { AuthService, type TokenPair } from '../sessions/auth.service';
import { SessionCookie } from '../sessions/session-cookie.service';

/** A token pair, or (for a browser session) its access token alone: the refresh token is in the cookie. */
type SessionTokens = Omit<TokenPair, 'refreshToken'>;

const TOKENS_RESPONSE = {
  schema: {
    oneOf: [{ $ref: getSchemaPath(TokenPairDto) }, { $ref: getSchemaPath(SessionTokenDto) }],
  },
};
const COOKIE_ORIGIN_REFUSED = {
  description:
    '`ORIGIN_NOT_ALLOWED`: the session cookie was used without an `Origin` header naming this server (or a configured CORS origin).',
};

const withoutRefreshToken = ({ refreshToken: _, ...rest }: TokenPair): SessionTokens => rest;

@ApiTags('auth')
@RateLimit('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly principal: CurrentPrincipal,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly cookie: SessionCookie,
    @InjectRepository(UserEntity) private readonly userRepo: Repository<UserEntity>,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in with email and password; returns an access token and a refresh token.',
    description:
      'With `cookie: true` (browser apps on this origin, such as the console) the refresh token ' +
      'is set as the httpOnly session cookie instead, and the answer carries the access token ' +
      'alone.',
  })
  @ApiExtraModels(TokenPairDto, SessionTokenDto)
  @ApiOkResponse(TOKENS_RESPONSE)
  @ApiUnauthorizedResponse({
    description:
      '`INVALID_CREDENTIALS`: tenant, email or password is wrong (deliberately not said which).',
  })
  @ApiForbiddenResponse(COOKIE_ORIGIN_REFUSED)
  async login(
    @Body() body: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPair | SessionTokens> {
    const { cookie, ...credentials } = body;
    if (!cookie) return this.auth.login(credentials);
    this.cookie.assertSameOrigin(request);
    const pair = await this.auth.login(credentials);
    this.cookie.set(request, reply, pair.refreshToken);
    return withoutRefreshToken(pair);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Exchange a refresh token for a new pair. Each refresh token works once; reusing one revokes the session.',
    description:
      'Without `refreshToken` in the body, the session cookie is used (and rotated): the answer ' +
      'then carries the access token alone.',
  })
  @ApiSecurity({})
  @ApiSecurity(SESSION_COOKIE_AUTH)
  @ApiOkResponse(TOKENS_RESPONSE)
  @ApiBadRequestResponse({ description: '`VALIDATION_FAILED`: no refresh token and no cookie.' })
  @ApiUnauthorizedResponse({ description: '`REFRESH_TOKEN_INVALID` or `REFRESH_TOKEN_REUSED`.' })
  @ApiForbiddenResponse(COOKIE_ORIGIN_REFUSED)
  async refresh(
    @Body() body: RefreshDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPair | SessionTokens> {
    if (body.refreshToken) return this.auth.refresh(body.refreshToken);
    const token = this.sessionToken(request);
    this.cookie.assertSameOrigin(request);
    try {
      const pair = await this.auth.refresh(token);
      this.cookie.set(request, reply, pair.refreshToken);
      return withoutRefreshToken(pair);
    } catch (error) {
      // A dead session's cookie is of no further use: the browser forgets it.
      this.cookie.clear(request, reply);
      throw error;
    }
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({
    summary: 'End the session the refresh token belongs to.',
    description: 'Without `refreshToken` in the body, the session cookie’s (which is cleared).',
  })
  @ApiSecurity({})
  @ApiSecurity(SESSION_COOKIE_AUTH)
  @ApiNoContentResponse()
  @ApiBadRequestResponse({ description: '`VALIDATION_FAILED`: no refresh token and no cookie.' })
  @ApiForbiddenResponse(COOKIE_ORIGIN_REFUSED)
  async logout(
    @Body() body: RefreshDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    if (body.refreshToken) return this.auth.logout(body.refreshToken);
    const token = this.sessionToken(request);
    this.cookie.assertSameOrigin(request);
    this.cookie.clear(request, reply);
    await this.auth.logout(token);
  }

  /** The session cookie's refresh token, when the body had none. */
  private sessionToken(request: FastifyRequest): string {
    const token = this.cookie.read(request);
    if (!token)
      throw ValidationFailedError.field(
        'refreshToken',
        'send the refresh token in the body, or call from a browser session that logged in with cookie: true',
      );
    return token;
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

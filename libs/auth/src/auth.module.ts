import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantsService } from './admin/tenants.service';
import { UsersService } from './admin/users.service';
import { ApiKeyUsageTracker } from './api-keys/api-key-usage.tracker';
import { ApiKeyService } from './api-keys/api-key.service';
import { AuditModule } from './audit/audit.module';
import { BootstrapService } from './bootstrap/bootstrap.service';
import { AdminController, TenantsController } from './controllers/admin.controller';
import { ApiKeysController } from './controllers/api-keys.controller';
import { AuthController } from './controllers/auth.controller';
import { ApiKeyEntity } from './entities/api-key.entity';
import { AuditLogEntity } from './entities/audit-log.entity';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { TenantEntity } from './entities/tenant.entity';
import { UserEntity } from './entities/user.entity';
import { AuthGuard } from './guards/auth.guard';
import { ActingUsers } from './guards/acting-users.service';
import { PrincipalResolver } from './guards/principal.resolver';
import { PasswordHasher } from './passwords/password.hasher';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { MessageRateLimiter } from './rate-limit/message-rate.limiter';
import { AuthService } from './sessions/auth.service';
import { LoginThrottle } from './sessions/login-throttle.service';
import { RefreshTokenService } from './sessions/refresh-token.service';
import { SessionCookie } from './sessions/session-cookie.service';
import { AccessTokenService } from './tokens/access-token.service';
import { AuthSecrets } from './tokens/auth-secrets.service';
import { WebSocketHandshake } from './websocket/handshake.service';
import { SocketRegistry } from './websocket/socket.registry';

/** Who is calling and what they may do: sessions, API keys, guards, rate limits, audit, admin. */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      TenantEntity,
      UserEntity,
      RefreshTokenEntity,
      ApiKeyEntity,
      AuditLogEntity,
    ]),
    JwtModule.register({}),
    RateLimitModule,
    AuditModule,
  ],
  controllers: [AuthController, ApiKeysController, AdminController, TenantsController],
  providers: [
    MessageRateLimiter,
    // Order matters: authentication first, so rate limits can key on the principal.
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
    AuthSecrets,
    AccessTokenService,
    PasswordHasher,
    PrincipalResolver,
    ActingUsers,
    ApiKeyService,
    ApiKeyUsageTracker,
    UsersService,
    TenantsService,
    AuthService,
    LoginThrottle,
    RefreshTokenService,
    SessionCookie,
    BootstrapService,
    WebSocketHandshake,
    SocketRegistry,
  ],
  exports: [
    AuditModule,
    WebSocketHandshake,
    SocketRegistry,
    PrincipalResolver,
    MessageRateLimiter,
    ActingUsers,
  ],
})
export class AuthModule {}

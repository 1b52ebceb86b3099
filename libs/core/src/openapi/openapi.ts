import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const BEARER_AUTH = 'bearer';
export const API_KEY_AUTH = 'apiKey';
/** Browser sessions (the console): the refresh token in an httpOnly cookie on /v1/auth. */
export const SESSION_COOKIE_AUTH = 'sessionCookie';
export const SESSION_COOKIE_NAME = 'parley_refresh';

/** Serves Swagger UI at /docs and the OpenAPI document at /docs/openapi.json. */
export function setupOpenApi(
  app: INestApplication,
  info: { title: string; description: string; version: string },
): void {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion(info.version)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT or API key',
        description: 'An access token from POST /v1/auth/login, or an API key.',
      },
      BEARER_AUTH,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key.' },
      API_KEY_AUTH,
    )
    .addCookieAuth(
      SESSION_COOKIE_NAME,
      {
        type: 'apiKey',
        in: 'cookie',
        name: SESSION_COOKIE_NAME,
        description:
          'The refresh token of a browser session (POST /v1/auth/login with `cookie: true`): ' +
          'httpOnly, SameSite=Strict, Path=/v1/auth, Secure except on plain-http localhost. ' +
          'Refresh and logout read it when the body has no refreshToken, and then need an ' +
          '`Origin` header naming this server (or a configured CORS origin): 403 ' +
          '`ORIGIN_NOT_ALLOWED` otherwise.',
      },
      SESSION_COOKIE_AUTH,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
  });
}

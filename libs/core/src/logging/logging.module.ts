import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { pinoOptions } from './pino-options';

/** nestjs-pino: one JSON line per request (pretty on a terminal), with secrets redacted. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: pinoOptions(config),
        // nestjs-pino's default route pattern ({/*splat}) matches nothing under Nest 12's
        // Fastify adapter; {*path} matches every request, unknown routes included.
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
      }),
    }),
  ],
})
export class LoggingModule {}

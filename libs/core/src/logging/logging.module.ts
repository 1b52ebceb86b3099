import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { pinoOptions } from './pino-options';

/** nestjs-pino: one JSON line per request (pretty on a terminal), with secrets redacted. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ pinoHttp: pinoOptions(config) }),
    }),
  ],
})
export class LoggingModule {}

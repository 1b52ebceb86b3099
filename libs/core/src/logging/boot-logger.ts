import { Logger, PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { pinoOptions } from './pino-options';

/**
 * The pino logger handed to NestFactory.create, so that boot logs (and a boot failure) come
 * out in the configured format from the first line, rather than buffered and then dumped by
 * Nest's console logger. nestjs-pino's LoggerModule reuses the same root logger afterwards.
 */
export function createBootLogger(config: AppConfig): Logger {
  const params = { pinoHttp: pinoOptions(config) };
  return new Logger(new PinoLogger(params), params);
}

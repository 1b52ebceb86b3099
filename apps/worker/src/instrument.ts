// Loaded first by main.ts: tracing must patch http, Fastify, pg and ioredis before they load.
import { startTelemetry } from '@parley/core/telemetry';

startTelemetry({ serviceName: 'parley-worker' });

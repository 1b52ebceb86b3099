// The tracing bootstrap's own entry (@parley/core/telemetry): an app's instrument.ts imports
// it before anything else, so it must not load Nest, Fastify, pg or ioredis itself.
export * from './telemetry-sdk';
export * from './spans';
export * from './gen-ai';

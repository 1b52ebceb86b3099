export * from './queue.definitions';
export * from './queue.migrations';
export * from './queue.backend';
export * from './queue.module';
export * from './queue.processor';
export * from './queue.service';
export * from './job-outbox';
export * from './job-deadline';

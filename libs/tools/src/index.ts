export * from './outbound/outbound-http';
export * from './outbound/outbound-policy';
export * from './tools.errors';
export * from './registry/built-in-tools';
export * from './registry/tool-schema';
export * from './registry/tools.service';
export * from './tools.module';

export * from './base.entity';
export * from './data-source.options';
export * from './database-endpoint.service';
export * from './database.errors';
export * from './database.module';
export * from './embedded-postgres';
export * from './migration-lock';

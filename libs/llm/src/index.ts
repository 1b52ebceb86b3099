export * from './extractive-responder';
export * from './llm-gateway.service';
export * from './llm.errors';
export * from './llm.module';
export * from './llm.types';
export * from './model-router.service';
export * from './token-counter';

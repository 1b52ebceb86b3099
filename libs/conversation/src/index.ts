export * from './conversation.errors';
export * from './conversation.module';
export * from './conversation.views';
export * from './conversations.service';
export * from './pipeline/chat-pipeline.service';
export * from './pipeline/memory-window';
export * from './sealed-columns';

export * from './chunking/chunker';
export * from './documents/documents.service';
export * from './knowledge-bases/knowledge-bases.service';
export * from './rag.errors';
export * from './rag-jobs.module';
export * from './rag.module';
export * from './search/search.service';

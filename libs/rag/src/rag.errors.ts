import { AppError, ValidationFailedError } from '@parley/core';

export const TEXT_SEARCH_LANGUAGES = [
  'simple',
  'english',
  'german',
  'french',
  'spanish',
  'italian',
  'dutch',
  'portuguese',
  'swedish',
  'danish',
  'norwegian',
  'finnish',
  'russian',
  'hungarian',
  'romanian',
  'turkish',
] as const;

export class KnowledgeBaseNameTakenError extends AppError {
  constructor(name: string) {
    super(
      'CONFLICT',
      409,
      `Your tenant already has a knowledge base named "${name}"; choose another name.`,
    );
  }
}

/**
 * A knowledge base the caller may see but not change this way: 403 with what is needed. (One
 * the caller may not even read is 404, as another tenant's is.)
 */
export class KnowledgeBaseForbiddenError extends AppError {
  constructor(required: 'write' | 'manage', granted: 'read' | 'write') {
    super(
      'KNOWLEDGE_BASE_FORBIDDEN',
      403,
      required === 'write'
        ? `You have ${granted} access to this knowledge base; adding, re-ingesting or deleting its documents needs write access (its owner, a tenant admin, a write grant, or access "tenant:write").`
        : `You have ${granted} access to this knowledge base; changing its settings or access, or deleting it, needs manage access (its owner, a tenant admin, or a manage grant).`,
      { extensions: { requiredAccess: required, grantedAccess: granted } },
    );
  }
}

export class DocumentTooLargeError extends AppError {
  constructor(limit: number) {
    super(
      'PAYLOAD_TOO_LARGE',
      413,
      `The document is larger than the limit of ${limit} bytes; split it into several documents.`,
    );
  }
}

export const invalid = ValidationFailedError.field;

/** PostgreSQL text and jsonb cannot hold NUL: such a value is a 400 naming the field. */
export function refuseNul(field: string, value: unknown): void {
  if (value !== undefined && JSON.stringify(value).includes('\\u0000'))
    throw invalid(field, `${field} must not contain NUL characters`);
}

/** Vector search was asked for where it cannot run; says what to configure. */
export class VectorSearchUnavailableError extends AppError {
  constructor(reason: string) {
    super(
      'VECTOR_SEARCH_UNAVAILABLE',
      422,
      `${reason.replace(/; results are lexical only\.$|, so results are lexical only\.$/, '.')} Use mode "lexical" or "hybrid" meanwhile.`,
    );
  }
}

/** A re-ingest asked for while the document is being ingested. */
export class DocumentBusyError extends AppError {
  constructor() {
    super(
      'CONFLICT',
      409,
      'The document is being ingested right now; re-ingest it once its status is ready or failed.',
    );
  }
}

/** The embedding model or the vector store failed while a vector search needed it. */
export class VectorSearchFailedError extends AppError {
  constructor() {
    super(
      'VECTOR_SEARCH_FAILED',
      503,
      'The embedding model or the vector store did not answer, so vector search could not run. Try again shortly, or use mode "hybrid" (which falls back to lexical) or "lexical".',
      { logLevel: 'warn' },
    );
  }
}

import {
  jsonNestsDeeperThan,
  MAX_JSON_DEPTH,
  readUpload as readMultipart,
  type Upload,
} from '@parley/core';
import type { FastifyRequest } from 'fastify';
import { DocumentTooLargeError, invalid } from '../rag.errors';

export type { Upload };

/** A document upload: one file, with optional `title` and `metadata` fields. */
export function readUpload(request: FastifyRequest, limit: number): Promise<Upload> {
  return readMultipart(request, {
    maxBytes: limit,
    tooLarge: () => new DocumentTooLargeError(limit),
    fields: 'title and metadata',
  });
}

/** The `metadata` form field: a JSON object, or nothing. */
export function parseMetadataField(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (jsonNestsDeeperThan(value))
    throw invalid('metadata', `metadata must not nest more than ${MAX_JSON_DEPTH} levels deep`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalid('metadata', 'metadata must be a JSON object, e.g. {"source": "handbook"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('metadata', 'metadata must be a JSON object, e.g. {"source": "handbook"}');
  return parsed as Record<string, unknown>;
}

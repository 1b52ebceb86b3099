import type { FastifyRequest } from 'fastify';
import { AppError } from '@parley/core';
import { DocumentTooLargeError, invalid } from '../rag.errors';

export interface Upload {
  bytes: Buffer;
  filename?: string;
  declaredType?: string;
  /** The text fields sent beside the file (`title`, `metadata`). */
  fields: Record<string, string>;
}

/**
 * Reads a multipart upload: exactly one file part (field `file`) and optional text fields, in
 * any order. A file over the size limit is a 413 naming the limit, never a truncated document.
 */
export async function readUpload(request: FastifyRequest, limit: number): Promise<Upload> {
  const fields: Record<string, string> = {};
  let file: Omit<Upload, 'fields'> | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (file) throw invalid('file', 'send exactly one file per request');
        file = {
          bytes: await part.toBuffer(),
          filename: part.filename || undefined,
          declaredType: part.mimetype || undefined,
        };
      } else {
        if (part.valueTruncated)
          throw invalid(part.fieldname, `the ${part.fieldname} field is longer than 64 KiB`);
        // A field sent as application/json arrives parsed; keep its JSON text.
        fields[part.fieldname] =
          typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
      }
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new DocumentTooLargeError(limit);
    if (code === 'FST_FILES_LIMIT') throw invalid('file', 'send exactly one file per request');
    if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT')
      throw invalid('fields', 'too many form fields; send file, and optionally title and metadata');
    // Anything else is a body busboy could not parse (no boundary, cut short, …).
    throw invalid('file', `the multipart body could not be read (${(error as Error).message})`);
  }
  if (!file) throw invalid('file', 'a multipart upload needs a file part named "file"');
  return { ...file, fields };
}

/** The `metadata` form field: a JSON object, or nothing. */
export function parseMetadataField(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
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

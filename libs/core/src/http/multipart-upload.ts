import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { UnsupportedMediaTypeError, ValidationFailedError } from '../errors/core.errors';

export const ACCEPTS_UPLOADS = 'acceptsUploads';

/**
 * Marks a route that reads multipart uploads with `readUpload`. Every other route answers a
 * multipart body with 415 (it would otherwise reach the handler as an empty body). Fastify
 * route config, so the check runs before guards and pipes.
 */
export const AcceptsUploads = (): MethodDecorator => RouteConfig({ [ACCEPTS_UPLOADS]: true });

export interface Upload {
  bytes: Buffer;
  filename?: string;
  declaredType?: string;
  /** The text fields sent beside the file (`title`, `metadata`). */
  fields: Record<string, string>;
}

/**
 * Reads a multipart upload: exactly one file part (field `file`) and optional text fields, in
 * any order. A file over `maxBytes` is `tooLarge()` (a 413 naming the limit), never a
 * truncated file.
 */
export async function readUpload(
  request: FastifyRequest,
  options: { maxBytes: number; tooLarge: () => Error; fields: string },
): Promise<Upload> {
  if (!request.isMultipart())
    throw new UnsupportedMediaTypeError(
      'This endpoint takes a multipart/form-data upload, with the file in a part named "file".',
    );
  const fields: Record<string, string> = {};
  let file: Omit<Upload, 'fields'> | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: options.maxBytes } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file')
          throw ValidationFailedError.field(
            'file',
            `send the file as the part named "file", not "${part.fieldname.slice(0, 100)}"`,
          );
        if (file) throw ValidationFailedError.field('file', 'send exactly one file per request');
        file = {
          bytes: await part.toBuffer(),
          filename: part.filename || undefined,
          declaredType: part.mimetype || undefined,
        };
      } else {
        if (part.valueTruncated)
          throw ValidationFailedError.field(
            part.fieldname,
            `the ${part.fieldname} field is longer than 64 KiB`,
          );
        // A field sent as application/json arrives parsed; keep its JSON text.
        fields[part.fieldname] =
          typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
      }
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw options.tooLarge();
    if (code === 'FST_FILES_LIMIT')
      throw ValidationFailedError.field('file', 'send exactly one file per request');
    if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT')
      throw ValidationFailedError.field(
        'fields',
        `too many form fields; send file, and optionally ${options.fields}`,
      );
    // Anything else is a body busboy could not parse (no boundary, cut short, …).
    throw ValidationFailedError.field(
      'file',
      `the multipart body could not be read (${(error as Error).message})`,
    );
  }
  if (!file)
    throw ValidationFailedError.field('file', 'a multipart upload needs a file part named "file"');
  return { ...file, fields };
}

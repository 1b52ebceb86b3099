import { AppError } from '@parley/core';

/** The content types extraction produces; returned with a 415 so a client can show them. */
export const ACCEPTED_CONTENT_TYPES = [
  'application/pdf',
  'text/plain',
  'text/markdown',
  'text/html',
  'application/json',
  'text/csv',
] as const;

const ACCEPTED = 'a PDF with a text layer, or UTF-8 text (plain, Markdown, HTML, JSON or CSV)';

/** The bytes are neither a document format we read nor UTF-8 text. */
export class UnsupportedDocumentTypeError extends AppError {
  /** @param detected the MIME type the content looked like, when it was recognised */
  constructor(detected?: string) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      detected
        ? `The file looks like ${detected}, which cannot be indexed. Upload ${ACCEPTED}.`
        : `The file is neither a supported document nor UTF-8 text. Upload ${ACCEPTED}; save text in other encodings as UTF-8 first.`,
      {
        extensions: {
          ...(detected ? { detectedType: detected } : {}),
          acceptedTypes: [...ACCEPTED_CONTENT_TYPES],
        },
      },
    );
  }
}

/** A supported format whose content cannot be turned into text to index. */
export class DocumentUnreadableError extends AppError {
  /** @param cause the library error behind it: logged, never sent to the caller */
  constructor(reason: string, cause?: unknown) {
    super('DOCUMENT_UNREADABLE', 422, reason, { cause });
  }
}

import { fileTypeFromBuffer } from 'file-type';
import { DocumentUnreadableError, UnsupportedDocumentTypeError } from './extraction.errors';
import { type DocumentParsers, inlineParsers } from './document-parsers';
import { looksLikeHtml } from './html-text';
import { decodeUtf8, isCleanText } from './text-decoding';
import { hasConsistentDelimiters, jsonText, normalizeText } from './text-formats';

/**
 * The text-extraction step of a knowledge-base upload: bytes in, indexable text out. What a
 * document is gets decided by its content. The declared type and the file name only choose
 * between text subtypes of content that really is text; they never make binary acceptable.
 */
export type DocumentContentType =
  | 'text/plain'
  | 'text/markdown'
  | 'text/html'
  | 'application/pdf'
  | 'application/json'
  | 'text/csv';

export interface ExtractedDocument {
  contentType: DocumentContentType;
  text: string;
  /** e.g. the PDF's Title entry or the HTML <title>, when known */
  title?: string;
  /** Pages of a PDF. */
  pageCount?: number;
}

export interface ExtractionInput {
  bytes: Buffer;
  /** The Content-Type the client sent, parameters allowed. A hint only. */
  declaredType?: string;
  /** The uploaded file's name. Its extension is a hint only. */
  filename?: string;
}

// Formats file-type recognises that are text, but markup we cannot reduce to prose.
const UNREADABLE_TEXT_FORMATS = new Set(['application/rtf', 'application/postscript']);

/**
 * @param parsers where PDF and HTML parsing run: inline here, in a worker thread under a
 *   deadline for uploads (DocumentExtractionService)
 */
export async function extractDocument(
  input: ExtractionInput,
  parsers: DocumentParsers = inlineParsers,
): Promise<ExtractedDocument> {
  const { bytes } = input;
  const sniffed = await fileTypeFromBuffer(bytes);
  if (sniffed?.mime === 'application/pdf' || startsWith(bytes, '%PDF-')) {
    const pdf = await parsers.pdf(bytes);
    if ('unreadable' in pdf) throw new DocumentUnreadableError(pdf.unreadable);
    return finish({ contentType: 'application/pdf', ...pdf });
  }
  const text = decodeUtf8(bytes);
  // Short magic numbers also match prose ("MZ…" is an exe), so clean text overrules a sniff.
  if (
    sniffed &&
    (text === undefined || !isCleanText(text) || UNREADABLE_TEXT_FORMATS.has(sniffed.mime))
  )
    throw new UnsupportedDocumentTypeError(sniffed.mime);
  if (text === undefined) throw new UnsupportedDocumentTypeError();
  return finish(await classifyText(text, hints(input), parsers));
}

interface Hints {
  markdown: boolean;
  csv: boolean;
  html: boolean;
}

/** What the uploader said the text is, from the declared type or the file extension. */
function hints({ declaredType, filename }: ExtractionInput): Hints {
  const type = declaredType?.split(';')[0]!.trim().toLowerCase();
  const extension = /\.([a-z0-9]+)$/i.exec(filename ?? '')?.[1]?.toLowerCase();
  return {
    markdown:
      type === 'text/markdown' ||
      type === 'text/x-markdown' ||
      extension === 'md' ||
      extension === 'markdown',
    csv: type === 'text/csv' || extension === 'csv',
    html: type === 'text/html' || extension === 'html' || extension === 'htm',
  };
}

async function classifyText(
  text: string,
  hint: Hints,
  parsers: DocumentParsers,
): Promise<ExtractedDocument> {
  const json = jsonText(text);
  if (json !== undefined) return { contentType: 'application/json', text: json };
  // A declared CSV before HTML: exports often carry HTML in cells (a product's description).
  if (hint.csv && hasConsistentDelimiters(text)) return { contentType: 'text/csv', text };
  if (looksLikeHtml(text, hint.markdown) || (hint.html && /<[a-z][^>]*>/i.test(text)))
    return { contentType: 'text/html', ...(await parsers.html(text)) };
  if (hint.markdown || /^#{1,6} /m.test(text)) return { contentType: 'text/markdown', text };
  return { contentType: 'text/plain', text };
}

function finish(document: ExtractedDocument): ExtractedDocument {
  const text = normalizeText(document.text);
  if (text === '') throw new DocumentUnreadableError('The document has no text to index.');
  return { ...document, text };
}

function startsWith(bytes: Buffer, magic: string): boolean {
  return bytes.subarray(0, magic.length).toString('latin1') === magic;
}

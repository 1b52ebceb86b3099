import { htmlToMarkdown } from './html-text';
import { extractPdfText, type PdfResult } from './pdf-text';

/**
 * The parts of extraction whose cost depends on what a document contains rather than on its
 * size alone (PDF.js on a crafted file, an HTML parser on pathological markup). They take and
 * return plain data, so they can run in a worker thread that a deadline may end.
 */
export interface DocumentParsers {
  pdf(bytes: Uint8Array): Promise<PdfResult>;
  html(html: string): Promise<{ text: string; title?: string }>;
}

/** The parsers run on the calling thread: for unit tests and for the worker itself. */
export const inlineParsers: DocumentParsers = {
  pdf: (bytes) => extractPdfText(bytes),
  html: async (html) => htmlToMarkdown(html),
};

export type ParseTask = { kind: 'pdf'; bytes: Uint8Array } | { kind: 'html'; html: string };

export function runParseTask(task: ParseTask): Promise<unknown> {
  return task.kind === 'pdf' ? inlineParsers.pdf(task.bytes) : inlineParsers.html(task.html);
}

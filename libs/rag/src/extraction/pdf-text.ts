import { extractText, getDocumentProxy, getMeta } from 'unpdf';

/**
 * Runs in the extraction worker, so it knows no AppError: a PDF that cannot be read comes back as
 * `{ unreadable }`, a reason a person can act on, and the caller raises the error.
 */
export interface PdfText {
  /** All pages in order, separated by a blank line so each page starts a new paragraph. */
  text: string;
  pageCount: number;
  /** The Title entry of the document info dictionary, when it has one. */
  title?: string;
}

export type PdfResult = PdfText | { unreadable: string };

/** The text layer of a PDF, with unpdf (a serverless PDF.js build). */
export async function extractPdfText(bytes: Uint8Array): Promise<PdfResult> {
  // A copy: PDF.js refuses a Node Buffer and may detach the array it is given. Verbosity 0:
  // PDF.js would console.warn about damaged files, past the app's logger; we report them.
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    return { unreadable: unreadable(error) };
  }
  try {
    const { totalPages, text: pages } = await extractText(pdf, { mergePages: false });
    const text = pages.map((page) => page.trim()).join('\n\n');
    if (text.trim() === '')
      return {
        unreadable: `The PDF has ${totalPages} page${totalPages === 1 ? '' : 's'} but no text layer (it is probably scanned images), and OCR is not supported. Upload a PDF with selectable text, or the text itself.`,
      };
    return { text, pageCount: totalPages, title: await readTitle(pdf) };
  } catch (error) {
    return { unreadable: unreadable(error) };
  } finally {
    // What unpdf does with documents it opens itself; this PDF.js build has no proxy.destroy().
    await pdf.loadingTask.destroy();
  }
}

async function readTitle(pdf: Awaited<ReturnType<typeof getDocumentProxy>>) {
  // A title is a nicety: a broken info dictionary must not fail a readable document.
  const meta = await getMeta(pdf).catch(() => undefined);
  const title: unknown = meta?.info?.Title;
  return typeof title === 'string' && title.trim() !== '' ? title.trim() : undefined;
}

/** PDF.js errors carry their kind in `name`; the message itself is not meant for people. */
function unreadable(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'PasswordException'
    ? 'The PDF is password-protected; remove the password and upload it again.'
    : name === 'InvalidPDFException'
      ? 'The PDF could not be read: its structure is damaged or the file is truncated. Re-export or re-download it and upload it again.'
      : 'The PDF could not be read: it is damaged or uses features the reader does not support. Re-export it (for example with "Save as PDF") and upload it again.';
}

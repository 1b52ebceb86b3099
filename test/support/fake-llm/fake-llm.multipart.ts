/**
 * Just enough multipart/form-data parsing for audio uploads: text fields by name, and the size
 * and name of the file part. No library, because the fake must not hide client encoding bugs.
 */
export interface MultipartSummary {
  fields: Record<string, string>;
  fileBytes?: number;
  fileName?: string;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match ? (match[1] ?? match[2]) : undefined;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartSummary {
  const summary: MultipartSummary = { fields: {} };
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const afterDelimiter = start + delimiter.length;
    // "--boundary--" closes the body.
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', afterDelimiter);
    if (headerEnd < 0) break;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    const contentEnd = next < 0 ? body.length : next;
    const headers = body.subarray(afterDelimiter, headerEnd).toString('utf8');
    const content = body.subarray(headerEnd + 4, contentEnd);
    const name = /;\s*name="([^"]*)"/i.exec(headers)?.[1];
    const fileName = /;\s*filename="([^"]*)"/i.exec(headers)?.[1];
    if (fileName !== undefined) {
      summary.fileBytes = content.length;
      summary.fileName = fileName;
    } else if (name !== undefined) {
      summary.fields[name] = content.toString('utf8');
    }
    start = next < 0 ? -1 : next + 2; // skip the CRLF that precedes the delimiter
  }
  return summary;
}

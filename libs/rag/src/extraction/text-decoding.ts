/**
 * Bytes as UTF-8 text (a BOM is dropped), or undefined when they are not text: an invalid
 * sequence or a NUL, which text never holds and Postgres cannot store. UTF-16 is not decoded:
 * nearly any even-length byte run after FF FE is "valid" UTF-16, so it proves nothing.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    // fatal: an invalid sequence throws instead of becoming U+FFFD. The BOM is stripped.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return text.includes('\0') ? undefined : text;
}

/**
 * Whether decoded text is free of the control characters binary data is full of. Used to overrule
 * magic-byte sniffing, whose short signatures also match prose ("MZ…" is an exe, "BMW…" a bitmap,
 * "ID3…" an MP3, "solid…" an STL model).
 */
export function isCleanText(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return !/[\x00-\x08\x0e-\x1f\x7f]/.test(text);
}

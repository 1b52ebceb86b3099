/**
 * A structure-aware chunker. The text is cut into units — sentences within paragraphs within
 * sections (Markdown headings) — each with its character offsets; over-long sentences are cut
 * into word windows. Units are packed into chunks of at most `maxTokens`, a new section always
 * starting a new chunk, and each chunk after the first repeats the last units of the one before
 * it, up to `overlapTokens`. A chunk is a contiguous range of the original text, so its offsets
 * point back into the document for citations.
 */
export interface ChunkOptions {
  maxTokens: number;
  overlapTokens: number;
  countTokens: (text: string) => number;
}

export interface Chunk {
  ordinal: number;
  start: number;
  end: number;
  text: string;
  tokens: number;
  /** The heading of the section the chunk starts in, if any. */
  heading?: string;
}

interface Unit {
  start: number;
  end: number;
  tokens: number;
  section: number;
  heading?: string;
}

const HEADING = /^#{1,6}[ \t]+(\S.*)$/;

export function chunkText(text: string, options: ChunkOptions): Chunk[] {
  const units = toUnits(text, options);
  const chunks: Chunk[] = [];
  let current: Unit[] = [];
  let tokens = 0;
  const flush = () => {
    if (current.length === 0) return;
    const start = current[0]!.start;
    const end = current[current.length - 1]!.end;
    chunks.push({
      ordinal: chunks.length,
      start,
      end,
      text: text.slice(start, end),
      tokens,
      heading: current[0]!.heading,
    });
  };
  for (const unit of units) {
    const newSection = current.length > 0 && unit.section !== current[current.length - 1]!.section;
    if (current.length > 0 && (newSection || tokens + unit.tokens > options.maxTokens)) {
      flush();
      // Overlap: the previous chunk's last units, within the same section only.
      const carried: Unit[] = [];
      let carriedTokens = 0;
      if (!newSection)
        for (let i = current.length - 1; i > 0; i--) {
          const u = current[i]!;
          if (carriedTokens + u.tokens > options.overlapTokens) break;
          carried.unshift(u);
          carriedTokens += u.tokens;
        }
      current = carried;
      tokens = carriedTokens;
    }
    current.push(unit);
    tokens += unit.tokens;
  }
  flush();
  return chunks;
}

/** Sentences with offsets, by section and paragraph; long ones cut into word windows. */
function toUnits(text: string, options: ChunkOptions): Unit[] {
  const units: Unit[] = [];
  let section = 0;
  let heading: string | undefined;
  const lineRe = /[^\n]*(?:\n|$)/gy;
  let paragraphStart = -1;
  let paragraphEnd = -1;
  const endParagraph = () => {
    if (paragraphStart >= 0)
      sentences({ text, section, heading, options, out: units }, paragraphStart, paragraphEnd);
    paragraphStart = -1;
  };
  for (const m of text.matchAll(lineRe)) {
    if (m[0] === '' && m.index >= text.length) break;
    const line = m[0].replace(/\n$/, '');
    const lineStart = m.index;
    const lineEnd = lineStart + line.length;
    const h = HEADING.exec(line.trim());
    if (h) {
      endParagraph();
      section++;
      heading = h[1]!.trim();
      units.push({
        start: lineStart,
        end: lineEnd,
        tokens: options.countTokens(line),
        section,
        heading,
      });
    } else if (line.trim() === '') {
      endParagraph();
    } else {
      if (paragraphStart < 0) paragraphStart = lineStart + (line.length - line.trimStart().length);
      paragraphEnd = lineEnd;
    }
  }
  endParagraph();
  return units;
}

/** Where units go, and which section they belong to. */
interface Sink {
  text: string;
  section: number;
  heading: string | undefined;
  options: ChunkOptions;
  out: Unit[];
}

function sentences(sink: Sink, from: number, to: number): void {
  const { text, section, heading, options, out } = sink;
  const paragraph = text.slice(from, to);
  // Sticky: sentences tile the paragraph, so no try starts inside one.
  for (const m of paragraph.matchAll(/[^.!?]*(?:[.!?]+["')\]]*|$)\s*/gy)) {
    if (!m[0].trim()) continue;
    const start = from + m.index;
    const end = from + m.index + m[0].trimEnd().length;
    const tokens = options.countTokens(text.slice(start, end));
    if (tokens <= options.maxTokens) out.push({ start, end, tokens, section, heading });
    else words(sink, start, end);
  }
}

/**
 * A sentence longer than a chunk: windows of words that each fit. Each word is counted once,
 * with the blanks before it (BPE encodes such pieces independently, so their counts add up);
 * re-counting the growing window at every word would be quadratic in a long sentence.
 */
function words(sink: Sink, from: number, to: number): void {
  const { text, section, heading, options, out } = sink;
  let start = from;
  let end = from;
  let windowTokens = 0;
  const emit = () =>
    out.push({ start, end, tokens: options.countTokens(text.slice(start, end)), section, heading });
  for (const m of text.slice(from, to).matchAll(/\S+\s*/g)) {
    const wordStart = from + m.index;
    const wordEnd = wordStart + m[0].trimEnd().length;
    const wordTokens = options.countTokens(text.slice(end, wordEnd));
    if (end > start && windowTokens + wordTokens > options.maxTokens) {
      emit();
      start = wordStart;
      windowTokens = options.countTokens(text.slice(wordStart, wordEnd));
    } else windowTokens += wordTokens;
    end = wordEnd;
  }
  if (end > start) emit();
}

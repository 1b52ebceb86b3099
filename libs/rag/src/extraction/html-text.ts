import { NodeHtmlMarkdown } from 'node-html-markdown';

// Markers only a whole HTML page has; one of them is enough. A doctype may follow comments:
// those are skipped by hand, since a pattern like (<!--[\s\S]*?-->\s*)* can split a run of
// "<!---->" in exponentially many ways before it fails.
const PAGE_TAGS = /<html[\s>]|<head[\s>]|<body[\s>]/i;
const DOCTYPE = /^<!doctype\s+html/i;

function startsWithDoctype(text: string): boolean {
  let at = 0;
  for (;;) {
    while (at < text.length && /\s/.test(text[at]!)) at++;
    if (!text.startsWith('<!--', at)) break;
    const close = text.indexOf('-->', at + 4);
    if (close < 0) return false;
    at = close + 3;
  }
  return DOCTYPE.test(text.slice(at, at + 20));
}
// Block-level tags an HTML fragment is made of. Markdown may contain a few (a <div align>, a
// <details>), so a fragment needs several of them, see looksLikeHtml.
const BLOCK_TAGS = /<(?:p|div|h[1-6]|ul|ol|li|table|tr|section|article|blockquote|pre)[\s>]/gi;
const MIN_BLOCK_TAGS = 3;

/**
 * Whether text is HTML. Conservative on purpose: a Markdown file with inline `<br>` or one
 * `<div>` must stay Markdown, so a fragment without page markers counts as HTML only with several
 * block tags and no Markdown headings, and never when the uploader said it is Markdown.
 */
export function looksLikeHtml(text: string, declaredMarkdown: boolean): boolean {
  if (startsWithDoctype(text) || PAGE_TAGS.test(text)) return true;
  if (declaredMarkdown || /^#{1,6} /m.test(text)) return false;
  return (text.match(BLOCK_TAGS)?.length ?? 0) >= MIN_BLOCK_TAGS;
}

// Contents that are never prose. The library already drops head, script and style, and its
// parser noscript; the rest would otherwise come out as loose text.
const converter = new NodeHtmlMarkdown({
  ignore: ['NOSCRIPT', 'IFRAME', 'SVG', 'TEMPLATE', 'OBJECT', 'CANVAS', 'TITLE'],
});

/** HTML as Markdown (headings become `#` lines the chunker splits on) and its `<title>`. */
export function htmlToMarkdown(html: string): { text: string; title?: string } {
  return { text: converter.translate(html), title: titleOf(html) };
}

function titleOf(html: string): string | undefined {
  const inner = /<title[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html)?.[1];
  const title = inner === undefined ? '' : decodeEntities(inner).replace(/\s+/g, ' ').trim();
  return title === '' ? undefined : title;
}

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** The entities a title realistically holds; anything else is kept as written. */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, body: string) => {
    if (body[0] !== '#') return NAMED[body.toLowerCase()] ?? entity;
    const code =
      body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : Number(body.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

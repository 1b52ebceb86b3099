import { PDFDocument, PDFHexString, StandardFonts } from 'pdf-lib';
import { extractDocument } from './document-extractor';
import { DocumentUnreadableError, UnsupportedDocumentTypeError } from './extraction.errors';

const text = (s: string) => Buffer.from(s, 'utf8');

/** The error extractDocument rejects with, to assert on its class, code and message. */
async function failure(input: Parameters<typeof extractDocument>[0]): Promise<unknown> {
  return extractDocument(input).then(
    (document) => {
      throw new Error(`expected a failure, got ${JSON.stringify(document)}`);
    },
    (error: unknown) => error,
  );
}

async function pdf(pages: string[][], title?: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  if (title) doc.setTitle(title);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage([600, 800]);
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 700 - i * 20, size: 12, font }));
  }
  return Buffer.from(await doc.save());
}

// The PNG signature and an IHDR chunk for a 1×1 RGBA image.
const PNG = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
  0x89,
]);

describe('extractDocument: PDF', () => {
  it('extracts every page in order, a blank line between pages, with the title', async () => {
    const bytes = await pdf(
      [
        ['Refunds are paid within five days.', 'Ask support for a receipt.'],
        ['Shipping is free above fifty euros.'],
      ],
      'Customer policy',
    );
    const document = await extractDocument({ bytes, filename: 'policy.pdf' });
    expect(document).toEqual({
      contentType: 'application/pdf',
      text: 'Refunds are paid within five days.\nAsk support for a receipt.\n\nShipping is free above fifty euros.',
      title: 'Customer policy',
      pageCount: 2,
    });
  });

  it('reads a PDF by its content whatever the name and declared type', async () => {
    const bytes = await pdf([['Only the content counts.']]);
    const document = await extractDocument({
      bytes,
      filename: 'notes.txt',
      declaredType: 'text/plain',
    });
    expect(document.contentType).toBe('application/pdf');
    expect(document.text).toBe('Only the content counts.');
    expect(document.title).toBeUndefined();
  });

  it('refuses a PDF without a text layer, saying OCR is not supported', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([600, 800]).drawRectangle({ x: 50, y: 50, width: 200, height: 100 });
    const error = await failure({ bytes: Buffer.from(await doc.save()) });
    expect(error).toBeInstanceOf(DocumentUnreadableError);
    expect(error).toMatchObject({ code: 'DOCUMENT_UNREADABLE', status: 422 });
    expect((error as Error).message).toMatch(/no text layer/);
    expect((error as Error).message).toMatch(/OCR is not supported/);
  });

  it('refuses a password-protected PDF, saying so', async () => {
    // pdf-lib cannot encrypt; a standard security handler whose user-password check fails
    // (arbitrary /O and /U values) is what PDF.js sees in a file that needs a password.
    const doc = await PDFDocument.create();
    doc
      .addPage()
      .drawText('Secret.', { x: 50, y: 700, font: await doc.embedFont(StandardFonts.Helvetica) });
    const { context } = doc;
    context.trailerInfo.Encrypt = context.register(
      context.obj({
        Filter: 'Standard',
        V: 1,
        R: 2,
        Length: 40,
        P: -4,
        O: PDFHexString.of('00'.repeat(32)),
        U: PDFHexString.of('11'.repeat(32)),
      }),
    );
    const id = PDFHexString.of('ab'.repeat(16));
    context.trailerInfo.ID = context.obj([id, id]);
    const error = await failure({
      bytes: Buffer.from(await doc.save({ useObjectStreams: false })),
    });
    expect(error).toBeInstanceOf(DocumentUnreadableError);
    expect((error as Error).message).toBe(
      'The PDF is password-protected; remove the password and upload it again.',
    );
  });

  it('refuses a truncated PDF with a reason, not a parser message', async () => {
    const bytes = Buffer.concat([
      text('%PDF-1.7\n1 0 obj\n<< /Type /Cat'),
      Buffer.from([0xde, 0xad]),
    ]);
    const error = await failure({ bytes, filename: 'broken.pdf' });
    expect(error).toBeInstanceOf(DocumentUnreadableError);
    expect(error).toMatchObject({ code: 'DOCUMENT_UNREADABLE', status: 422 });
    expect((error as Error).message).toMatch(/^The PDF could not be read: .*damaged/);
    expect((error as Error).message).not.toMatch(/\n[ \t]+at /);
  });
});

describe('extractDocument: binary files', () => {
  it.each(['doc.pdf', 'doc.txt'])(
    'refuses a PNG named %s, naming what it looks like',
    async (filename) => {
      const error = await failure({ bytes: PNG, filename, declaredType: 'application/pdf' });
      expect(error).toBeInstanceOf(UnsupportedDocumentTypeError);
      expect(error).toMatchObject({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        status: 415,
        extensions: { detectedType: 'image/png' },
      });
      expect((error as Error).message).toMatch(/looks like image\/png/);
      expect((error as Error).message).toMatch(/PDF.*Markdown.*HTML.*JSON.*CSV/);
    },
  );

  it('refuses a zip archive', async () => {
    // A local file header; file-type needs no more to call it a zip.
    const zip = Buffer.concat([
      Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]),
      Buffer.alloc(40),
    ]);
    const error = await failure({ bytes: zip, filename: 'notes.md' });
    expect(error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      extensions: { detectedType: 'application/zip' },
    });
  });

  it.each([
    ['a UTF-16 byte order mark before invalid UTF-8', [0xff, 0xfe, 0xfd, 0x00, 0x41, 0x00]],
    ['a broken two-byte sequence', [0x48, 0x69, 0xc3, 0x28]],
  ])('refuses bytes that are not UTF-8: %s', async (_, bytes) => {
    const error = await failure({ bytes: Buffer.from(bytes), filename: 'notes.txt' });
    expect(error).toBeInstanceOf(UnsupportedDocumentTypeError);
    expect((error as Error).message).toMatch(/neither a supported document nor UTF-8 text/);
    expect((error as UnsupportedDocumentTypeError).extensions).not.toHaveProperty('detectedType');
  });

  it('refuses valid UTF-8 that holds NUL bytes', async () => {
    const error = await failure({ bytes: text('abc\0def'), declaredType: 'text/plain' });
    expect(error).toBeInstanceOf(UnsupportedDocumentTypeError);
  });

  it('keeps prose that happens to start with a magic number', async () => {
    // file-type calls "MZ…" a Windows executable and "BMW…" a bitmap.
    for (const prose of ['MZ Bank refunds card fees.', 'BMW service intervals are 15,000 km.']) {
      await expect(extractDocument({ bytes: text(prose) })).resolves.toEqual({
        contentType: 'text/plain',
        text: prose,
      });
    }
  });

  it('does not let control characters pass for prose', async () => {
    // Valid UTF-8 without NUL, so only the control characters show it is not text.
    const bytes = Buffer.concat([
      text('MZ'),
      Buffer.from([0x03, 0x1b, 0x02, 0x7f]),
      text('program'),
    ]);
    const error = await failure({ bytes, filename: 'notes.txt' });
    expect(error).toMatchObject({ extensions: { detectedType: 'application/x-msdownload' } });
  });

  it('refuses RTF, which is text but not prose', async () => {
    const error = await failure({ bytes: text('{\\rtf1\\ansi Refunds take five days.}') });
    expect(error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      extensions: { detectedType: 'application/rtf' },
    });
  });

  it('still refuses a real executable header', async () => {
    const exe = Buffer.concat([
      text('MZ'),
      Buffer.from([0x90, 0x00, 0x03, 0x00]),
      Buffer.alloc(60),
    ]);
    const error = await failure({ bytes: exe, filename: 'readme.txt' });
    expect(error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      extensions: { detectedType: 'application/x-msdownload' },
    });
  });
});

describe('extractDocument: HTML', () => {
  const html = `<!DOCTYPE html>
<html>
<head>
  <title>Help &amp; support</title>
  <style>.secret-style { color: red }</style>
  <script>var secretScript = 1;</script>
</head>
<body>
  <h1>Refunds</h1>
  <p>Refunds take <strong>five</strong> days.</p>
  <noscript>Enable JavaScript, secret noscript</noscript>
  <iframe src="/ad">secret iframe</iframe>
  <svg viewBox="0 0 10 10"><text>secret svg</text></svg>
  <h2>Shipping</h2>
  <p>We ship daily.</p>
  <script>console.log('secret inline script')</script>
</body>
</html>`;

  it.each([
    { filename: 'help.html', declaredType: 'text/html' },
    { filename: 'notes.txt', declaredType: 'text/plain' },
    {},
  ])('converts it to Markdown by its content (%o)', async (hints) => {
    const document = await extractDocument({ bytes: text(html), ...hints });
    expect(document.contentType).toBe('text/html');
    expect(document.title).toBe('Help & support');
    expect(document.text).toMatch(/^# Refunds$/m);
    expect(document.text).toMatch(/^## Shipping$/m);
    expect(document.text).toContain('Refunds take **five** days.');
    expect(document.text).not.toMatch(/secret|Help & support|<\w/);
  });

  it('recognises a fragment made of several block tags', async () => {
    const fragment =
      '<h2>Opening hours</h2>\n<p>Monday to Friday.</p>\n<div>Closed on Sundays.</div>';
    const document = await extractDocument({ bytes: text(fragment) });
    expect(document.contentType).toBe('text/html');
    expect(document.text).toMatch(/^## Opening hours$/m);
    expect(document.title).toBeUndefined();
  });

  it('leaves text with an inline <br> or a single block tag alone', async () => {
    const note = 'Call us on weekdays.<br>We answer within a day.\n\nWrap it in a <div> tag.';
    await expect(extractDocument({ bytes: text(note) })).resolves.toEqual({
      contentType: 'text/plain',
      text: note,
    });
  });

  it('keeps Markdown with a few HTML blocks as Markdown', async () => {
    const md =
      '<div align="center">\n<p>Logo</p>\n</div>\n\n# Guide\n\n<details><p>More</p></details>';
    const document = await extractDocument({ bytes: text(md), filename: 'README.md' });
    expect(document).toEqual({ contentType: 'text/markdown', text: md });
  });
});

describe('extractDocument: inputs built to make a pattern backtrack', () => {
  it('finds the doctype after leading comments, and a run of empty comments is not a page', async () => {
    const page = await extractDocument({
      bytes: text('<!-- a --> <!-- b -->\n<!DOCTYPE html><p>Claims close in May.</p>'),
    });
    expect(page.contentType).toBe('text/html');
    const comments = await extractDocument({ bytes: text(`${'<!---->'.repeat(20_000)}<x`) });
    expect(comments.contentType).toBe('text/plain');
  });

  it('hands PDF and HTML parsing to the parsers it is given (the upload path runs them in a worker)', async () => {
    const seen: string[] = [];
    const doc = await extractDocument(
      { bytes: Buffer.from('<html><body><p>From the worker.</p></body></html>') },
      {
        pdf: () => Promise.reject(new Error('not a PDF')),
        html: async (html) => (seen.push(html), { text: 'parsed elsewhere' }),
      },
    );
    expect(seen).toHaveLength(1);
    expect(doc).toMatchObject({ contentType: 'text/html', text: 'parsed elsewhere' });
  });
});

describe('extractDocument: JSON', () => {
  it('lays out minified JSON on lines, keeping every token as uploaded', async () => {
    const json =
      '{"id":12345678901234567890,"tags":["a","b, c"],"empty":{},"note":"say \\"hi\\": {ok}"}';
    const document = await extractDocument({ bytes: text(json), filename: 'data.txt' });
    expect(document.contentType).toBe('application/json');
    expect(document.text).toBe(
      [
        '{',
        '  "id": 12345678901234567890,',
        '  "tags": [',
        '    "a",',
        '    "b, c"',
        '  ],',
        '  "empty": {},',
        '  "note": "say \\"hi\\": {ok}"',
        '}',
      ].join('\n'),
    );
    expect(JSON.parse(document.text)).toEqual(JSON.parse(json));
  });

  it('keeps JSON that already has lines as it is', async () => {
    const json = '[\n    { "q": "Refunds?", "a": "Five days." }\n]';
    await expect(extractDocument({ bytes: text(json) })).resolves.toEqual({
      contentType: 'application/json',
      text: json,
    });
  });

  it('does not take text that merely starts with a brace for JSON', async () => {
    const document = await extractDocument({ bytes: text('{draft} Refund rules, version 2') });
    expect(document.contentType).toBe('text/plain');
  });
});

describe('extractDocument: CSV, Markdown and plain text', () => {
  const csv = 'name,price,description\nTea,3,"Green, loose"\nCoffee,4,"Beans\nground fresh"\n';

  it('takes CSV when declared and the delimiters are consistent', async () => {
    const document = await extractDocument({
      bytes: text(csv),
      declaredType: 'text/csv; charset=utf-8',
    });
    expect(document).toEqual({ contentType: 'text/csv', text: csv.trimEnd() });
  });

  it('takes CSV by the .csv extension, even with HTML in its cells', async () => {
    const shop = 'handle;body\nmug;"<p>A mug.</p><ul><li>Blue</li></ul>"\npot;"<p>A pot.</p>"';
    const document = await extractDocument({ bytes: text(shop), filename: 'products.CSV' });
    expect(document).toEqual({ contentType: 'text/csv', text: shop });
  });

  it('does not call text CSV because of its name or its commas alone', async () => {
    const prose = 'Hello, world.\nThis line, has, more commas.\nNone here';
    expect((await extractDocument({ bytes: text(prose), filename: 'x.csv' })).contentType).toBe(
      'text/plain',
    );
    expect((await extractDocument({ bytes: text(csv) })).contentType).toBe('text/plain');
  });

  it('takes Markdown by its headings, and drops a UTF-8 BOM', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      text('Intro\n\n## Refunds\nFive days.'),
    ]);
    await expect(extractDocument({ bytes, filename: 'notes.txt' })).resolves.toEqual({
      contentType: 'text/markdown',
      text: 'Intro\n\n## Refunds\nFive days.',
    });
  });

  it('takes Markdown by its declared type or extension', async () => {
    const body = 'Some *emphasis* without headings.';
    for (const hint of [
      { declaredType: 'text/markdown' },
      { filename: 'a.markdown' },
      { filename: 'b.md' },
    ])
      expect((await extractDocument({ bytes: text(body), ...hint })).contentType).toBe(
        'text/markdown',
      );
  });

  it('falls back to plain text', async () => {
    await expect(
      extractDocument({ bytes: text('Our office is closed on Sundays.'), filename: 'x.json' }),
    ).resolves.toEqual({ contentType: 'text/plain', text: 'Our office is closed on Sundays.' });
  });
});

describe('extractDocument: normalisation', () => {
  it('uses LF, trims line ends and keeps at most two blank lines', async () => {
    const document = await extractDocument({
      bytes: text('\r\n\r\nOne  \r\nTwo\t\r\n\r\n\r\n\r\n\r\nThree\rFour\r\n\r\n'),
    });
    expect(document.text).toBe('One\nTwo\n\n\nThree\nFour');
  });

  it.each([
    ['empty', ''],
    ['whitespace', ' \r\n\t\n  '],
    ['an HTML page without text', '<html><body><script>x()</script></body></html>'],
  ])('refuses a document with no text: %s', async (_, body) => {
    const error = await failure({ bytes: text(body) });
    expect(error).toBeInstanceOf(DocumentUnreadableError);
    expect(error).toMatchObject({
      code: 'DOCUMENT_UNREADABLE',
      status: 422,
      message: 'The document has no text to index.',
    });
  });
});

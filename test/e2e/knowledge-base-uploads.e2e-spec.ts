import { PDFDocument, StandardFonts } from 'pdf-lib';
import { createTenant, createUser, type TestUser } from '../support/identity';
import { waitForDocument } from '../support/knowledge-bases';
import { multipart } from '../support/multipart';
import { createTestApp, type TestApp } from '../support/test-app';

async function pdfWith(pages: string[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const text of pages)
    pdf.addPage([595, 842]).drawText(text, { x: 50, y: 780, size: 12, font });
  pdf.setTitle('Warranty terms');
  return pdf.save();
}

describe('knowledge-base documents uploaded as files', () => {
  let t: TestApp;
  let member: TestUser;
  let kb: string;

  beforeAll(async () => {
    t = await createTestApp({
      env: { WORKERS_IN_PROCESS: 'true', RAG_MAX_DOCUMENT_BYTES: '65536' },
    });
    member = await createUser(await createTenant(t.app));
    kb = (await member.client.post('/v1/knowledge-bases', { name: 'uploads' })).body.id;
  });
  afterAll(() => t?.close());

  const upload = async (parts: Parameters<typeof multipart>[0]) => {
    const { payload, headers } = await multipart(parts);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/knowledge-bases/${kb}/documents`,
      payload,
      headers: { ...headers, authorization: `Bearer ${member.client.credential}` },
    });
    return { status: res.statusCode, body: JSON.parse(res.body), headers: res.headers };
  };
  const ready = (doc: string) => waitForDocument(member.client, kb, doc);
  const topText = async (query: string) =>
    (await member.client.post(`/v1/knowledge-bases/${kb}/search`, { query, mode: 'lexical' })).body
      .results[0]?.text as string | undefined;
  const text = (s: string) => new TextEncoder().encode(s);

  it('extracts every page of a PDF, titled from its metadata', async () => {
    const res = await upload({
      file: {
        bytes: await pdfWith([
          'Jackets carry a two year warranty.',
          'Claims need the original receipt.',
        ]),
        filename: 'warranty.pdf',
        type: 'application/pdf',
      },
      metadata: '{"source":"legal"}',
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      contentType: 'application/pdf',
      title: 'Warranty terms',
      metadata: { source: 'legal', filename: 'warranty.pdf' },
    });
    expect((await ready(res.body.id)).status).toBe('ready');
    expect(await topText('original receipt')).toContain('Claims need the original receipt.');
  });

  it('recognises HTML by its content, whatever the file is called', async () => {
    const html = `<!doctype html><html><head><title>Shipping guide</title><style>p{color:red}</style></head>
      <body><h1>Shipping</h1><p>Parcels to Iceland travel by sea.</p><script>trackVisitor()</script></body></html>`;
    const res = await upload({
      file: { bytes: text(html), filename: 'notes.txt', type: 'text/plain' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ contentType: 'text/html', title: 'Shipping guide' });
    await ready(res.body.id);
    const found = await topText('Iceland sea');
    expect(found).toContain('Parcels to Iceland travel by sea.');
    expect(found).not.toContain('trackVisitor');
    expect(found).not.toContain('color:red');
  });

  it('takes Markdown, CSV, JSON and plain text, with the title field over the file name', async () => {
    const cases = [
      {
        name: 'faq.md',
        type: 'text/markdown',
        body: '# Opening hours\nWe open at nine on Saturdays.',
        expect: 'text/markdown',
        query: 'Saturdays',
      },
      {
        name: 'prices.csv',
        type: 'text/csv',
        body: 'item,price\numbrella,12\nponcho,30\n',
        expect: 'text/csv',
        query: 'poncho',
      },
      {
        name: 'data.bin',
        type: 'application/octet-stream',
        body: '{"policy":"Pets travel free on Tuesdays"}',
        expect: 'application/json',
        query: 'pets Tuesdays',
      },
      {
        name: 'readme',
        type: 'text/plain',
        body: 'Lost keys are kept at the front desk for a month.',
        expect: 'text/plain',
        query: 'lost keys',
      },
    ];
    for (const c of cases) {
      const res = await upload({
        file: { bytes: text(c.body), filename: c.name, type: c.type },
        title: `About ${c.name}`,
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ contentType: c.expect, title: `About ${c.name}` });
      expect((await ready(res.body.id)).status).toBe('ready');
      expect(await topText(c.query)).toBeDefined();
    }
  });

  it('refuses binary files that are not documents with 415, whatever they are called', async () => {
    const png = Uint8Array.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
      1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
    ]);
    const res = await upload({
      file: { bytes: png, filename: 'handbook.pdf', type: 'application/pdf' },
    });
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', detectedType: 'image/png' });
    expect(res.body.detail).toMatch(/PDF/);
  });

  it('refuses a file over the limit with 413, and a broken PDF with 422, storing nothing', async () => {
    const before = (await member.client.get(`/v1/knowledge-bases/${kb}/documents?limit=100`)).body
      .items.length;
    const big = await upload({
      file: { bytes: text('word '.repeat(20_000)), filename: 'big.txt' },
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(big.body.detail).toContain('65536');
    const broken = await upload({
      file: { bytes: text('%PDF-1.7\n1 0 obj garbage'), filename: 'x.pdf' },
    });
    expect(broken.status).toBe(422);
    expect(broken.body.code).toBe('DOCUMENT_UNREADABLE');
    const after = (await member.client.get(`/v1/knowledge-bases/${kb}/documents?limit=100`)).body
      .items.length;
    expect(after).toBe(before);
  });

  it('stops reading a file past the extraction deadline with 422, and reads the next one', async () => {
    const html = (body: string) => ({
      file: { bytes: text(`<html><body>${body}</body></html>`), filename: 'page.html' },
    });
    const deadline = t.config.rag.extractionTimeoutMs;
    t.config.rag.extractionTimeoutMs = 1; // no parse finishes in a millisecond
    try {
      // ~55 KB of markup: tens of milliseconds of parsing, never within one (a tiny page on a
      // warm worker could be).
      const res = await upload(
        html('<div><p>Too slow <b>to</b> <i>read</i>.</p></div>'.repeat(1200)),
      );
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'DOCUMENT_UNREADABLE' });
      expect(res.body.detail).toMatch(/RAG_EXTRACTION_TIMEOUT_MS/);
    } finally {
      t.config.rag.extractionTimeoutMs = deadline;
    }
    const next = await upload(html('<h1>Returns</h1><p>Returns are free within 30 days.</p>'));
    expect(next.status).toBe(202);
    expect(next.body.contentType).toBe('text/html');
  });

  it('says what is wrong with a malformed upload', async () => {
    const noFile = await upload({ title: 'Nothing attached' });
    expect(noFile.status).toBe(400);
    expect(JSON.stringify(noFile.body)).toContain('file');
    const badMeta = await upload({
      file: { bytes: text('Some text.'), filename: 'a.txt' },
      metadata: '[1,2]',
    });
    expect(badMeta.status).toBe(400);
    expect(JSON.stringify(badMeta.body)).toContain('metadata must be a JSON object');
    // A multipart body busboy cannot read is a 400, not a 500.
    for (const body of [
      { type: 'multipart/form-data', payload: 'no boundary here' },
      {
        type: 'multipart/form-data; boundary=x',
        payload:
          '--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\ncut sho',
      },
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/knowledge-bases/${kb}/documents`,
        payload: body.payload,
        headers: { 'content-type': body.type, authorization: `Bearer ${member.client.credential}` },
      });
      expect({ type: body.type, status: res.statusCode }).toEqual({ type: body.type, status: 400 });
    }
    // The JSON form is still validated as before.
    const json = await member.client.post(`/v1/knowledge-bases/${kb}/documents`, {
      title: 'x',
      text: 'y',
      extra: 1,
    });
    expect(json.status).toBe(400);
  });

  it('stores an identical upload once', async () => {
    const file = { bytes: text('The café closes at six.'), filename: 'cafe.txt' };
    const first = await upload({ file });
    expect(first.status).toBe(202);
    const second = await upload({ file });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: first.body.id, duplicate: true });
  });
});

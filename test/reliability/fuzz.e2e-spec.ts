import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { DataSource } from 'typeorm';
import { toneWav } from '../support/audio';
import { FakeLlm } from '../support/fake-llm';
import { Client, createApiKey, createTenant, createUser, login } from '../support/identity';
import { createKnowledgeBase, fakeLlmEnv } from '../support/knowledge-bases';
import { multipart } from '../support/multipart';
import { createTestApp, ROOT, type TestApp } from '../support/test-app';

/**
 * An abuse pass over every write endpoint the OpenAPI document lists: malformed JSON, bodies
 * of the wrong shape, wrongly typed, missing and unknown fields, oversized and deeply nested
 * bodies, prototype-pollution keys, wrong content types and broken multipart bodies, with
 * valid-looking and garbage path parameters. Every answer must be a 4xx problem (never a
 * 5xx, never a stack trace) and nothing may be written.
 */

const METHODS = ['post', 'put', 'patch', 'delete'] as const;
const PROBLEM = /^application\/problem\+json/;
const STACK = /\n[ \t]*at |\bat (?:async )?\S+ \(|\/work\/|node_modules|\.(?:ts|js):\d+/;
/**
 * Tables whose rows may change while requests are refused: the audit log (which records
 * security-relevant refusals), and the queue backend's own bookkeeping on PostgreSQL (BullMQ's
 * events, metrics, logs and schedulers change as the maintenance sweeps run on their own).
 * Jobs a request queues are still seen: in BullMQ's `job` table (those no scheduler made) and
 * in the app's own records of them (audio_jobs, kb_documents, job_outbox).
 */
const UNCOUNTED_TABLES = new Set([
  'audit_logs',
  'event',
  'metrics',
  'job_log',
  'meta',
  'migration',
  'scheduler',
  'rate_limit',
  'dedup',
  'dedup_next',
  'relay_inbox',
  'relay_node',
  'relay_retained',
  'relay_subscription',
]);
/** BullMQ's jobs, less the repeats of scheduled sweeps. */
const COUNTED_ROWS: Record<string, string> = { job: 'scheduler_id IS NULL' };

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  minimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
}

interface Operation {
  method: (typeof METHODS)[number];
  /** OpenAPI path template, e.g. `/v1/conversations/{id}/messages`. */
  path: string;
  params: string[];
  /** The JSON request body's schema, when the operation takes one. */
  json?: Schema;
  /** Whether the operation takes a multipart upload. */
  multipart: boolean;
}

interface Probe {
  op: Operation;
  who: 'admin' | 'root';
  case: string;
  url: string;
  payload?: string | Buffer;
  headers: Record<string, string>;
  /** The exact status this probe must get, when one is certain. */
  expect?: number;
}

/** A random id shaped like a UUIDv7 (version 7, RFC 4122 variant). */
function uuid7(): string {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const GARBAGE_PARAMS: [string, string][] = [
  ['not-a-uuid', 'not-a-uuid'],
  ['dot-dot (encoded)', encodeURIComponent('../../etc')],
  ['dot-dot (raw)', '../../etc'],
  ['5000 chars', 'a'.repeat(5000)], // over the router's maxParamLength: 414
  ['NUL and quotes', encodeURIComponent("\u0000' OR '1'='1")],
  ['bad percent-encoding', '%E0%A4%A'],
];

const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const DEPTH = 10_000;

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** A raw multipart body around `parts` (each `headers\r\n\r\ncontent`), closed or not. */
function rawMultipart(boundary: string, parts: string[], close = true): Buffer {
  const body = parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('');
  return Buffer.from(close ? `${body}--${boundary}--\r\n` : body);
}

describe('abuse pass over every write endpoint (OpenAPI-driven fuzzing)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let admin: Client;
  let root: Client;
  let doc: { paths: Record<string, Record<string, any>>; components: { schemas: any } };
  let operations: Operation[];
  let realIds: { path: RegExp; ids: Record<string, string> }[];

  beforeAll(async () => {
    fake = await FakeLlm.start({ reply: 'Fuzzing is fine.' });
    const generous = '1000000/60';
    t = await createTestApp({
      env: {
        WORKERS_IN_PROCESS: 'true',
        ...fakeLlmEnv(fake.url),
        MESSAGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        RATE_LIMIT_DEFAULT: generous,
        RATE_LIMIT_AUTH: generous,
        RATE_LIMIT_CHAT: generous,
        RATE_LIMIT_AUDIO: generous,
        RATE_LIMIT_ADMIN: generous,
        AUDIO_MAX_UPLOAD_BYTES: '262144',
        RAG_MAX_DOCUMENT_BYTES: '262144',
      },
    });
    const tenant = await createTenant(t.app);
    admin = tenant.admin.client;
    root = new Client(t.app, (await login(t.app, ROOT.email, ROOT.password)).accessToken);

    // Real resources of the tenant, so bodies are also read where a handler looks the
    // resource up first (they are made before the row counts are taken).
    const member = await createUser(tenant);
    const conversation = (await admin.post('/v1/conversations', { title: 'fuzz' })).body.id;
    const kb = (await createKnowledgeBase(admin)).id;
    const key = (await createApiKey(admin, ['chat'])).id;
    await admin.put('/v1/admin/tool-settings', { allowedHosts: ['api.example.com'] });
    const tool = await admin.post('/v1/admin/tools', {
      name: 'fuzz_tool',
      description: 'A tool for the fuzz pass.',
      parameters: { type: 'object', properties: {} },
      http: { method: 'GET', url: 'https://api.example.com/fuzz' },
      risk: 'low',
    });
    if (tool.status !== 201 || !conversation) throw new Error(`fixtures not created: ${tool.raw}`);
    realIds = [
      { path: /^\/v1\/conversations\/\{id\}/, ids: { id: conversation } },
      { path: /^\/v1\/knowledge-bases\/\{id\}/, ids: { id: kb } },
      { path: /^\/v1\/admin\/users\/\{id\}/, ids: { id: member.id } },
      { path: /^\/v1\/(admin\/)?api-keys\/\{id\}/, ids: { id: key } },
      { path: /^\/v1\/admin\/tools\/\{id\}/, ids: { id: tool.body.id } },
      { path: /^\/v1\/admin\/pricing\/\{model\}/, ids: { model: 'fake-model' } },
    ];

    const res = await t.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
    operations = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const content = op.requestBody?.content ?? {};
        const params = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
        const json = content['application/json']?.schema as Schema | undefined;
        operations.push({
          method,
          path,
          params,
          json: json && jsonAlternative(json),
          multipart: 'multipart/form-data' in content,
        });
      }
    }
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  /** The schema a `$ref` points to (and for oneOf bodies, the JSON alternative). */
  const resolve = (s: Schema | undefined): Schema => {
    let schema = s ?? {};
    for (let i = 0; schema.$ref && i < 10; i++)
      schema = doc.components.schemas[schema.$ref.split('/').pop()!] ?? {};
    if (schema.allOf)
      schema = schema.allOf.map(resolve).reduce<Schema>(
        (all, part) => ({
          ...all,
          ...part,
          properties: { ...all.properties, ...part.properties },
          required: [...(all.required ?? []), ...(part.required ?? [])],
        }),
        {},
      );
    return schema;
  };
  const jsonAlternative = (s: Schema): Schema =>
    s.oneOf?.find((alt) => alt.$ref) ?? s.oneOf?.[0] ?? s;

  /** A plausible valid value of a schema (examples, first enum values, minimal sizes). */
  const sample = (s: Schema | undefined, depth = 0): unknown => {
    const schema = resolve(s);
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.enum) return schema.enum[0];
    if (schema.oneOf ?? schema.anyOf) return sample((schema.oneOf ?? schema.anyOf)![0], depth);
    if (schema.properties || schema.type === 'object') {
      if (depth > 4) return {};
      return Object.fromEntries(
        (schema.required ?? []).map((name) => [name, sample(schema.properties?.[name], depth + 1)]),
      );
    }
    switch (schema.type) {
      case 'string':
        if (schema.format === 'email') return `fuzz-${randomBytes(3).toString('hex')}@example.com`;
        if (schema.format === 'uuid') return uuid7();
        if (schema.format === 'date-time') return new Date().toISOString();
        if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com/';
        return 'f'.repeat(Math.max(schema.minLength ?? 1, 4));
      case 'integer':
      case 'number':
        return schema.minimum ?? 1;
      case 'boolean':
        return true;
      case 'array':
        return depth > 4
          ? []
          : Array.from({ length: Math.max(schema.minItems ?? 1, 1) }, () =>
              sample(schema.items, depth + 1),
            );
      default:
        return undefined;
    }
  };

  /** The JSON types a schema allows. */
  const typesOf = (s: Schema | undefined): Set<string> => {
    const schema = resolve(s);
    const types = new Set<string>();
    if (schema.$ref || schema.properties) types.add('object');
    if (schema.type) types.add(schema.type === 'integer' ? 'number' : schema.type);
    for (const alt of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])])
      typesOf(alt).forEach((type) => types.add(type));
    for (const value of schema.enum ?? []) types.add(Array.isArray(value) ? 'array' : typeof value);
    if (schema.nullable) types.add('null');
    return types;
  };
  const WRONG: [string, unknown][] = [
    ['string', 'wrong-type'],
    ['number', 12345.5],
    ['boolean', true],
    ['object', { wrong: 'type' }],
    ['array', ['wrong', 'type']],
  ];

  /** The malformed JSON bodies of an operation: [case, body text, expected status?]. */
  function jsonCorpus(op: Operation): [string, string, number?][] {
    const schema = resolve(op.json);
    const props = Object.entries(schema.properties ?? {});
    // The required fields with plausible values: each case below breaks it in one way.
    const base = (sample(op.json) ?? {}) as Record<string, unknown>;
    const text = (value: unknown) => JSON.stringify(value);
    /** The base body with one more key, written as raw JSON text (so `__proto__` stays a key). */
    const withKey = (key: string, raw: string) => {
      const { [key]: _, ...rest } = base;
      const others = text(rest).slice(1);
      return `{${JSON.stringify(key)}: ${raw}${others === '}' ? '}' : `, ${others}`}`;
    };
    const corpus: [string, string, number?][] = [
      ['invalid JSON: cut short', '{"a": ', 400],
      ['invalid JSON: single quotes', "{'a': 1}", 400],
      ['invalid JSON: trailing garbage', `${text(base)}}x`, 400],
      ['invalid JSON: bare word', 'undefined', 400],
      ['top level: array', '[]'],
      ['top level: array of the body', text([base])],
      ['top level: string', '"a string"'],
      ['top level: number', '42'],
      ['top level: null', 'null'],
      ['top level: boolean', 'true'],
      ['unknown extra field', text({ ...base, fuzzUnknownField: 'x' })],
      ['__proto__ key', withKey('__proto__', '{"polluted": true}'), 400],
      [
        'constructor.prototype key',
        withKey('constructor', '{"prototype": {"polluted": true}}'),
        400,
      ],
      ['deeply nested object', deepObject(DEPTH), 400],
      ['deeply nested array', deepArray(DEPTH), 400],
      ['2 MB body', text({ ...base, padding: 'x'.repeat(2 * 1024 * 1024) }), 413],
    ];
    for (const name of schema.required ?? []) {
      const { [name]: _, ...rest } = base;
      corpus.push([`missing required ${name}`, text(rest)]);
    }
    for (const [name, prop] of props) {
      const allowed = typesOf(prop);
      if (allowed.size === 0) continue;
      const wrong = WRONG.find(([type]) => !allowed.has(type));
      if (wrong)
        corpus.push([
          `${name}: ${wrong[0]} instead of ${[...allowed]}`,
          text({ ...base, [name]: wrong[1] }),
        ]);
      if (allowed.has('string') && allowed.size === 1) {
        const max = resolve(prop).maxLength;
        // Without a declared limit: just under the body limit, over any limit of a field.
        const long = 'x'.repeat(max === undefined ? 1_000_000 : max + 1);
        corpus.push([`${name}: oversized string`, text({ ...base, [name]: long })]);
      }
      if (allowed.has('object') || allowed.has('array'))
        corpus.push([`${name}: nested ${DEPTH} deep`, withKey(name, deepObject(DEPTH)), 400]);
      const nested = resolve(prop);
      if (nested.properties)
        corpus.push([
          `${name}: unknown nested field`,
          text({ ...base, [name]: { ...(sample(prop) as object), fuzzUnknownField: 1 } }),
        ]);
    }
    return corpus;
  }

  /** Broken multipart bodies (for upload routes) and multipart sent to JSON routes. */
  async function multipartCorpus(
    upload: boolean,
  ): Promise<[string, Buffer, Record<string, string>, number?][]> {
    const b = `----fuzz${randomBytes(6).toString('hex')}`;
    const type = { 'content-type': `multipart/form-data; boundary=${b}` };
    const file = (bytes: string, name = 'file') =>
      `Content-Disposition: form-data; name="${name}"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${bytes}`;
    const field = (name: string, value: string) =>
      `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`;
    const wav = toneWav(1);
    const valid = await multipart({ file: { bytes: wav, filename: 'a.wav', type: 'audio/wav' } });
    const corpus: [string, Buffer, Record<string, string>, number?][] = [
      [
        'multipart: no boundary',
        rawMultipart(b, [file('abc')]),
        { 'content-type': 'multipart/form-data' },
      ],
      ['multipart: truncated', valid.payload.subarray(0, 200), valid.headers],
      [
        'multipart: boundary never closes',
        rawMultipart(b, [field('title', 'x'), file('abc')], false),
        type,
      ],
      ['multipart: empty body', Buffer.alloc(0), type],
      ['multipart: part without headers', rawMultipart(b, ['\r\nno headers']), type],
    ];
    if (!upload) {
      corpus.push(['multipart to a JSON route', valid.payload, valid.headers]);
      return corpus.map(([name, body, headers]) => [name, body, headers, 415]);
    }
    corpus.push(
      [
        'multipart: file field missing',
        rawMultipart(b, [field('title', 'x'), field('language', 'en')]),
        type,
        400,
      ],
      ['multipart: file under another name', rawMultipart(b, [file('abc', 'upload')]), type, 400],
      ['multipart: two files', rawMultipart(b, [file('abc'), file('def')]), type, 400],
      [
        'multipart: huge field',
        rawMultipart(b, [field('title', 't'.repeat(100_000)), file('abc')]),
        type,
        400,
      ],
      [
        'multipart: too many fields',
        rawMultipart(b, [
          ...Array.from({ length: 12 }, (_, i) => field(`f${i}`, 'x')),
          file('abc'),
        ]),
        type,
        400,
      ],
      ['multipart: file too large', rawMultipart(b, [file('z'.repeat(300_000))]), type, 413],
      [
        'multipart: __proto__ field',
        rawMultipart(b, [
          field('__proto__', '{"polluted":true}'),
          field('constructor', 'x'),
          file('\u0000\u00ff\u00fe'),
        ]),
        type,
      ],
      [
        'multipart: bad metadata and binary file',
        rawMultipart(b, [
          field('metadata', deepObject(DEPTH)),
          field('language', '../../etc'),
          file('\u0000\u0001\u0002\u00ff'),
        ]),
        type,
      ],
      [
        'multipart: text file, metadata nested 10000 deep',
        rawMultipart(b, [field('metadata', deepObject(DEPTH)), file('Plain text.')]),
        type,
      ],
      [
        'multipart: truncated WAV',
        (await multipart({ file: { bytes: wav.subarray(0, 30), filename: 'a.wav' } })).payload,
        {},
      ],
      [
        'multipart: WAV of 10 ms',
        (await multipart({ file: { bytes: toneWav(0.01), filename: 'a.wav' } })).payload,
        {},
      ],
    );
    // The two FormData bodies above carry their own boundary.
    return corpus.map(([name, body, headers, status]) =>
      Object.keys(headers).length === 0 && !name.startsWith('multipart: no boundary')
        ? [name, body, multipartHeaders(body), status]
        : [name, body, headers, status],
    );
  }
  const multipartHeaders = (body: Buffer) => ({
    'content-type': `multipart/form-data; boundary=${body.toString('latin1').split('\r\n')[0]!.slice(2)}`,
  });

  /** URLs of an operation: valid-looking ids, real ids of the tenant (bodies only), garbage. */
  function urls(
    op: Operation,
  ): { url: string; kind: 'random' | 'real' | 'garbage'; name: string }[] {
    const fill = (values: Record<string, string>) =>
      op.path.replace(/\{([^{}]+)\}/g, (_, name: string) => values[name]!);
    const random = Object.fromEntries(op.params.map((p) => [p, uuid7()]));
    const out: { url: string; kind: 'random' | 'real' | 'garbage'; name: string }[] = [
      { url: fill(random), kind: 'random', name: op.params.length ? 'random ids' : 'no ids' },
    ];
    const real = realIds.find((r) => r.path.test(op.path))?.ids;
    // Real ids only where a body is read: a DELETE or a body-less POST would just succeed.
    if (real && op.params.length && (op.json || op.multipart))
      out.push({ url: fill({ ...random, ...real }), kind: 'real', name: 'real ids' });
    for (const param of op.params)
      for (const [name, value] of GARBAGE_PARAMS)
        out.push({
          url: fill({ ...random, [param]: value }),
          kind: 'garbage',
          name: `${param}=${name}`,
        });
    return out;
  }

  async function probesOf(op: Operation): Promise<Probe[]> {
    const probes: Omit<Probe, 'who'>[] = [];
    const json = { 'content-type': 'application/json' };
    const corpus = jsonCorpus(op);
    const uploads = op.multipart ? await multipartCorpus(true) : await multipartCorpus(false);
    for (const target of urls(op)) {
      const add = (
        name: string,
        payload: string | Buffer | undefined,
        headers: Record<string, string>,
        status?: number,
      ) =>
        probes.push({
          op,
          case: `${target.name}: ${name}`,
          url: target.url,
          payload,
          headers,
          expect: status,
        });
      if (target.kind === 'garbage') {
        // The path is refused whatever the body: two bodies are enough. (A garbage value can
        // be a valid one, e.g. a model name, so the body is malformed too.)
        add(
          'unknown field',
          JSON.stringify({ ...(sample(op.json) ?? {}), fuzzUnknownField: 1 }),
          json,
        );
        const status = target.name.includes('raw')
          ? undefined
          : target.name.includes('5000')
            ? 414
            : 400;
        add('invalid JSON', '{"a": ', json, status);
        continue;
      }
      if (op.json || !op.multipart)
        for (const [name, body, status] of corpus) {
          // A 2 MB body is refused before routing; once is enough.
          if (status === 413 && target.kind === 'real') continue;
          add(name, body, json, status);
        }
      add('empty JSON body', '', json, 400);
      add('text/plain', 'just some text', { 'content-type': 'text/plain' });
      add('application/xml', '<a>1</a>', { 'content-type': 'application/xml' }, 415);
      add('form-urlencoded', 'a=1&b=2', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      add('JSON as UTF-16', Buffer.from('{"a":1}', 'utf16le'), {
        'content-type': 'application/json; charset=utf-16',
      });
      add('content type garbage', '{}', { 'content-type': ';;;/=' });
      if (op.multipart && !op.json)
        add(
          'JSON to a multipart route',
          JSON.stringify({ file: 'x' }),
          json,
          target.kind === 'random' && op.params.length ? undefined : 415,
        );
      // Where the resource is looked up before the upload is read, a random id is a 404 first.
      for (const [name, body, headers, status] of uploads)
        add(
          name,
          body,
          headers,
          op.multipart && target.kind === 'random' && op.params.length ? undefined : status,
        );
    }
    const roles: Probe['who'][] = op.path.startsWith('/v1/admin/') ? ['admin', 'root'] : ['admin'];
    return roles.flatMap((who) => probes.map((p) => ({ ...p, who })));
  }

  it('answers every malformed write with a 4xx problem and writes nothing', async () => {
    const db = t.app.get(DataSource);
    const tables: string[] = (
      await db.query(
        `SELECT table_schema || '.' || quote_ident(table_name) AS name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      )
    )
      .map((r: { name: string }) => r.name)
      .filter((name: string) => !UNCOUNTED_TABLES.has(name.split('.').pop()!));
    const count = async () =>
      Object.fromEntries(
        await Promise.all(
          tables.map(async (name) => [
            name,
            Number(
              (
                await db.query(
                  `SELECT count(*) AS n FROM ${name} WHERE ${COUNTED_ROWS[name.split('.').pop()!] ?? 'true'}`,
                )
              )[0].n,
            ),
          ]),
        ),
      );
    const before = await count();
    // The document lists the API's writes, the upload routes among them.
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((op) => op.multipart).map((op) => op.path)).toEqual(
      expect.arrayContaining([
        '/v1/audio/transcriptions',
        '/v1/knowledge-bases/{id}/documents',
        '/v1/conversations/{id}/voice',
      ]),
    );

    const probes = (await Promise.all(operations.map(probesOf))).flat();
    const histogram: Record<number, number> = {};
    const failures: string[] = [];
    const accepted: string[] = [];
    const timings: [number, string][] = [];
    await pool(probes, 8, async (probe) => {
      const client = probe.who === 'root' ? root : admin;
      const started = performance.now();
      const res = await t.app.inject({
        method: probe.op.method.toUpperCase() as 'POST',
        url: probe.url,
        ...(probe.payload === undefined ? {} : { payload: probe.payload }),
        headers: { authorization: `Bearer ${client.credential}`, ...probe.headers },
      });
      histogram[res.statusCode] = (histogram[res.statusCode] ?? 0) + 1;
      timings.push([
        performance.now() - started,
        `${probe.op.method} ${probe.url.slice(0, 80)} [${probe.case}]`,
      ]);
      const what = `${probe.op.method.toUpperCase()} ${probe.op.path} as ${probe.who} [${probe.case}]`;
      const problems: string[] = [];
      if (res.statusCode >= 500) problems.push(`status ${res.statusCode}`);
      if (probe.expect && res.statusCode !== probe.expect)
        problems.push(`status ${res.statusCode}, expected ${probe.expect}`);
      // Every body is malformed, so an operation that reads one must refuse it; an operation
      // without a body may succeed (e.g. deleting a price override that does not exist).
      if (res.statusCode < 300 && (probe.op.json || probe.op.multipart))
        accepted.push(`${what} → ${res.statusCode}`);
      if (res.statusCode >= 400) {
        if (!PROBLEM.test(String(res.headers['content-type'])))
          problems.push(`content-type ${res.headers['content-type']}`);
        let body: Record<string, unknown> = {};
        try {
          body = res.json();
        } catch {
          problems.push('body is not JSON');
        }
        if (typeof body.code !== 'string' || !body.code) problems.push('no code');
        if (body.status !== res.statusCode) problems.push(`status member ${String(body.status)}`);
        if (typeof body.detail !== 'string') problems.push('no detail');
        if (STACK.test(res.body)) problems.push('stack trace or file path in the body');
      }
      if (problems.length)
        failures.push(
          `${what} → ${res.statusCode} ${problems.join(', ')}: ${res.body.slice(0, 300)}`,
        );
    });

    const after = await count();
    const written = tables.filter((name) => after[name] !== before[name]);
    const codes = Object.entries(histogram)
      .map(([code, n]) => `${code}×${n}`)
      .join(' ');
    const slowest = timings
      .sort((a, b) => b[0] - a[0])
      .slice(0, 5)
      .map(([ms, what]) => `${Math.round(ms)} ms ${what}`);
    const summary = `${operations.length} operations, ${probes.length} requests, statuses ${codes}; slowest: ${slowest.join('; ')}`;
    const report = [
      ...failures.sort(),
      ...accepted.sort().map((a) => `accepted: ${a}`),
      ...written.map((name) => `rows written to ${name}: ${before[name]} → ${after[name]}`),
      ...(({} as Record<string, unknown>).polluted === undefined
        ? []
        : ['Object.prototype polluted']),
    ];
    if (report.length) throw new Error(`${summary}\n${report.join('\n')}`);
  });

  it('answers malformed WebSocket frames with a problem or a documented close, and keeps serving', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.getHttpServer().address() as { port: number }).port;
    const conversation = realIds[0]!.ids.id!;
    const db = t.app.get(DataSource);
    const messages = async () =>
      Number((await db.query('SELECT count(*) AS n FROM messages'))[0].n);
    const before = await messages();
    const garbage = randomBytes(2048);
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const chatFrames: (string | Buffer)[] = [
      'not json',
      '{}',
      '[]',
      'null',
      '{"event":"chat.send"}',
      '{"event":"chat.send","data":"x"}',
      '{"event":"chat.send","data":{"conversationId":"x","content":5}}',
      `{"event":"chat.send","data":{"conversationId":"${randomUUID()}","content":"hi"}}`,
      `{"event":"chat.send","data":{"conversationId":"${conversation}","content":""}}`,
      '{"event":"__proto__","data":{"polluted":true}}',
      '{"event":"chat.send","data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}',
      '{"event":"drop.tables","data":{}}',
      deep,
      garbage,
      'x'.repeat(70 * 1024),
    ];
    const voiceFrames: (string | Buffer)[] = [
      'not json',
      '{}',
      '{"type":"nope"}',
      '{"type":"session.start","audio":{"encoding":"pcm16","sampleRate":12345}}',
      '{"type":"session.start","__proto__":{"polluted":true}}',
      '{"type":"response.cancel"}',
      deep,
      garbage,
      Buffer.alloc(3),
    ];
    // Closes a client may see: normal, unsupported or invalid data, policy, too big, protocol.
    const documented = new Set([1000, 1003, 1007, 1008, 1009, 4400]);
    const failures: string[] = [];
    const probe = (path: string, frame: string | Buffer, waitForReady: boolean) =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
          headers: { authorization: `Bearer ${admin.credential}` },
        });
        const received: string[] = [];
        const label = `${path} ${String(frame).slice(0, 40)}`;
        const send = () => {
          ws.send(frame, { binary: Buffer.isBuffer(frame) });
          setTimeout(() => ws.close(1000), 400);
        };
        ws.on('open', () => {
          if (!waitForReady) send();
        });
        ws.on('message', (raw) => {
          const text = String(raw);
          received.push(text);
          if (waitForReady && text.includes('"event":"ready"')) send();
          if (STACK.test(text)) failures.push(`${label}: a stack trace in ${text.slice(0, 200)}`);
          if (text.includes('"error"') && !text.includes('"code"'))
            failures.push(`${label}: an error without a problem body: ${text.slice(0, 200)}`);
        });
        ws.on('close', (code) => {
          if (!documented.has(code)) failures.push(`${label}: closed with ${code}`);
          resolve();
        });
        ws.on('error', () => undefined);
      });
    for (const frame of chatFrames) await probe('/v1/ws', frame, true);
    for (const frame of voiceFrames)
      await probe(`/v1/voice?conversationId=${conversation}`, frame, false);
    expect(failures).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    expect(await messages()).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

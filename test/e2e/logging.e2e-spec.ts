import { spawnDist, type SpawnedProcess } from '../support/spawned-process';
import { testEnv } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('request logging', () => {
  let database: TestDatabase;
  let api: SpawnedProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = spawnDist('test/support/slow-api.js', testEnv({ ...database.env, LOG_FORMAT: 'json' }));
    await api.listening;
  });
  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('writes one JSON line per request with the request id, and no credentials', async () => {
    const port = await api.listening;
    const res = await fetch(`http://127.0.0.1:${port}/test/slow?ms=1&access_token=sekr1t-query`, {
      headers: {
        'x-request-id': 'log-probe-1',
        authorization: 'Bearer sekr1t-bearer',
        cookie: 'session=sekr1t-cookie',
        'x-api-key': 'pk_sekr1t-key',
      },
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const lines = api
      .output()
      .split('\n')
      .filter((l) => l.includes('log-probe-1'))
      .map((l) => JSON.parse(l));
    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      req: { id: 'log-probe-1', method: 'GET', url: '/test/slow' },
      res: { statusCode: 200 },
    });
    expect(typeof completed[0].responseTime).toBe('number');
    // No OTEL_EXPORTER_OTLP_ENDPOINT: tracing is off, so the lines carry no trace ids.
    expect(completed[0].trace_id).toBeUndefined();
    expect(api.output()).not.toMatch(/sekr1t/);
  });
});

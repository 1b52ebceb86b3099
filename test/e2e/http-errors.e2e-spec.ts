import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { Public } from '@parley/core';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';
import { createTestApp, type TestApp } from '../support/test-app';

class AddressDto {
  @IsString()
  city: string;
}

class CreateThingDto {
  @IsEmail()
  email: string;

  @IsInt()
  @Min(1)
  @Max(10)
  count: number;

  @ValidateNested()
  @Type(() => AddressDto)
  address: AddressDto;
}

class InternalSecretError extends Error {}

@Public()
@Controller('test')
class ProbeController {
  @Post('things')
  create(@Body() body: CreateThingDto): CreateThingDto {
    return body;
  }

  @Get('boom')
  boom(): never {
    throw new InternalSecretError('password=hunter2 at /srv/internal/db.ts');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const PROBLEM = /^application\/problem\+json/;

describe('HTTP errors are RFC 9457 problem details', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ imports: [ProbeModule], env: { BODY_LIMIT_BYTES: '2048' } });
  });
  afterAll(() => t?.close());

  it('answers an unknown route with 404 NOT_FOUND and the request id of the header', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/no/such/route?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    const body = res.json();
    expect(body).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      title: 'Not Found',
      instance: '/no/such/route',
    });
    expect(body.type).toMatch(/^urn:parley:problem:/);
    expect(body.requestId).toBe(res.headers['x-request-id']);
  });

  it('keeps a well-formed incoming x-request-id and replaces a malformed one', async () => {
    const kept = await t.app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'trace-42.a:b' },
    });
    expect(kept.headers['x-request-id']).toBe('trace-42.a:b');
    expect(kept.json().requestId).toBe('trace-42.a:b');
    const replaced = await t.app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'bad id\u0000<script>' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced.json().requestId).toBe(replaced.headers['x-request-id']);
  });

  it('lists every invalid field, nested ones included, with what is wrong', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/things',
      payload: { email: 'not-an-email', count: 99, address: { city: 7 } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    const body = res.json();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.requestId).toBe(res.headers['x-request-id']);
    const fields = Object.fromEntries(
      body.errors.map((e: { field: string; messages: string[] }) => [e.field, e.messages]),
    );
    expect(Object.keys(fields).sort()).toEqual(['address.city', 'count', 'email']);
    expect(fields.email.join()).toMatch(/email/);
    expect(fields.count.join()).toMatch(/10/);
  });

  it('refuses fields the endpoint does not take', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/things',
      payload: { email: 'a@example.com', count: 2, address: { city: 'Oslo' }, role: 'admin' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { field: 'role', messages: [expect.stringMatching(/should not exist/)] },
    ]);
  });

  it('accepts a valid body and returns the transformed DTO', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/things',
      payload: { email: 'a@example.com', count: 2, address: { city: 'Oslo' } },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ email: 'a@example.com', count: 2, address: { city: 'Oslo' } });
  });

  it('answers malformed JSON with 400 and a hint', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.json().requestId).toBe(res.headers['x-request-id']);
  });

  it('answers a body over the configured limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/things',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'a@example.com', pad: 'x'.repeat(4096) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
    expect(res.json().requestId).toBe(res.headers['x-request-id']);
  });

  it('answers an unexpected failure with 500 and nothing internal', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    const body = res.json();
    expect(body).toMatchObject({ code: 'INTERNAL_ERROR', status: 500 });
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect(res.body).not.toMatch(/hunter2|internal\/db|InternalSecretError|at /);
    expect(body.stack).toBeUndefined();
  });

  it('sets security headers with helmet', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // Served over plain http (a LAN address), the console's files must not be upgraded to https.
    expect(csp).not.toContain('upgrade-insecure-requests');
  });
});

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { ROOT } from './test-app';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Requests to the app, as a given caller (an access token or an API key). */
export class Client {
  constructor(
    readonly app: NestFastifyApplication,
    readonly credential?: string,
  ) {}

  async request(
    method: Method,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await this.app.inject({
      method,
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      headers: {
        ...(this.credential ? { authorization: `Bearer ${this.credential}` } : {}),
        ...headers,
      },
    });
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body ? safeJson(res.body) : undefined,
      raw: res.body,
    };
  }

  get = (url: string, headers?: Record<string, string>) =>
    this.request('GET', url, undefined, headers);
  post = (url: string, payload?: unknown, headers?: Record<string, string>) =>
    this.request('POST', url, payload ?? {}, headers);
  patch = (url: string, payload?: unknown) => this.request('PATCH', url, payload ?? {});
  put = (url: string, payload?: unknown) => this.request('PUT', url, payload ?? {});
  delete = (url: string) => this.request('DELETE', url);
}

function safeJson(body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export async function login(
  app: NestFastifyApplication,
  email: string,
  password: string,
  tenant?: string,
): Promise<Tokens> {
  const res = await new Client(app).post('/v1/auth/login', {
    email,
    password,
    ...(tenant ? { tenant } : {}),
  });
  if (res.status !== 200) throw new Error(`login failed for ${email}: ${res.status} ${res.raw}`);
  return res.body as Tokens;
}

export const strongPassword = (): string => `pw-${randomBytes(12).toString('base64url')}`;

export interface TestTenant {
  name: string;
  id: string;
  admin: { id: string; email: string; password: string; client: Client };
}

/** A fresh tenant with its own admin, made through the superadmin API: each test owns its data. */
export async function createTenant(app: NestFastifyApplication): Promise<TestTenant> {
  const root = new Client(app, (await login(app, ROOT.email, ROOT.password)).accessToken);
  const name = `t-${randomBytes(5).toString('hex')}`;
  const admin = { email: `admin@${name}.test`, password: strongPassword() };
  const res = await root.post('/v1/admin/tenants', {
    name,
    adminEmail: admin.email,
    adminPassword: admin.password,
  });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.raw}`);
  const tokens = await login(app, admin.email, admin.password, name);
  return {
    name,
    id: res.body.tenant.id,
    admin: { ...admin, id: res.body.admin.id, client: new Client(app, tokens.accessToken) },
  };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  tokens: Tokens;
  client: Client;
}

export async function createUser(
  tenant: TestTenant,
  role: 'admin' | 'member' = 'member',
): Promise<TestUser> {
  const email = `${role}-${randomBytes(4).toString('hex')}@${tenant.name}.test`;
  const password = strongPassword();
  const res = await tenant.admin.client.post('/v1/admin/users', {
    email,
    password,
    role,
    name: `A ${role}`,
  });
  if (res.status !== 201) throw new Error(`user creation failed: ${res.status} ${res.raw}`);
  const tokens = await login(tenant.admin.client.app, email, password, tenant.name);
  return {
    id: res.body.id,
    email,
    password,
    tokens,
    client: new Client(tenant.admin.client.app, tokens.accessToken),
  };
}

export async function createApiKey(
  client: Client,
  scopes: string[],
  extra: Record<string, unknown> = {},
): Promise<{ id: string; key: string }> {
  const res = await client.post('/v1/api-keys', { name: 'test key', scopes, ...extra });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${res.raw}`);
  return res.body;
}

/**
 * Turns the tenant's output guardrails off, for tests of token-by-token streaming (output
 * checks release an answer sentence by sentence; they have tests of their own).
 */
export async function streamUnchecked(tenant: TestTenant): Promise<void> {
  const off = { action: 'off' };
  const res = await tenant.admin.client.put('/v1/admin/guardrails', {
    output: { pii: off, prompt_leak: off, toxicity: off },
  });
  if (res.status !== 200) throw new Error(`guardrail policy failed: ${res.status} ${res.raw}`);
}

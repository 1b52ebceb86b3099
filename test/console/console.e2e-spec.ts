/**
 * The admin console in a real browser: Debian's Chromium driven by playwright-core against a
 * real Parley (embedded mode, the fake LLM upstream) serving the built console at /console.
 * One app and one browser for the whole file; each scenario gets a fresh browser context (its
 * own cookies). Every page is checked with axe (no serious or critical violation) and saved as
 * a screenshot in docs/console/ for the README.
 */
import AxeBuilder from '@axe-core/playwright';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { sign } from 'jsonwebtoken';
import { FakeLlm } from '../support/fake-llm';
import {
  Client,
  createTenant,
  createUser,
  login,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { describeRequiredInCi, describeWhen, servicesMode } from '../support/skip';
import { REPO_ROOT } from '../support/spawned-process';
import { createTestApp, ROOT, TEST_JWT_KEY, type TestApp } from '../support/test-app';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CONSOLE_DIST = join(REPO_ROOT, 'dist', 'console');
const CONSOLE_SRC = join(REPO_ROOT, 'apps', 'console');
const SCREENSHOTS = join(REPO_ROOT, 'docs', 'console');

/** The newest modification time under a folder (the console's sources). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * `npm test` builds the console first; a run of this file alone builds it when dist/console is
 * missing or older than its sources (only dist/console is written).
 */
function ensureConsoleBuilt(): void {
  const index = join(CONSOLE_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(CONSOLE_SRC)) return;
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--console-only'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('the console build failed');
}

// One browser run per CI: the console sees the same API in both modes, and the database
// backend behind it is covered by every other suite in services mode.
const describeBrowser = servicesMode
  ? describeWhen(false, 'the console browser suite runs in embedded mode only (see its header)')
  : describeRequiredInCi(
      existsSync(CHROMIUM),
      `the console's browser tests need Chromium at ${CHROMIUM} (apt-get install chromium)`,
    );

describeBrowser('admin console (Chromium)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let tenant: TestTenant;
  let member: TestUser;
  /** What went wrong in any page: uncaught errors and CSP violations. */
  let problems: string[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    fake = await FakeLlm.start({ reply: 'Refunds take five to seven working days.' });
    t = await createTestApp({
      env: {
        LLM_BASE_URL: fake.url,
        LLM_MODEL: 'fake-model',
        LLM_API_KEY: 'sk-test',
        RATE_LIMIT_AUTH: '1000/60',
        RATE_LIMIT_CHAT: '1000/60',
        WORKERS_IN_PROCESS: 'true', // documents are ingested while the page watches
      },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.getHttpServer().address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(SCREENSHOTS, { recursive: true });

    // Some usage and a budget, so the overview has something to draw.
    tenant = await createTenant(t.app);
    member = await createUser(tenant, 'member');
    const admin = tenant.admin.client;
    const root = new Client(t.app, (await login(t.app, ROOT.email, ROOT.password)).accessToken);
    const tenantBudget = await root.put('/v1/admin/budgets', {
      budgets: [{ scope: 'tenant', scopeId: tenant.id, period: 'month', limitUsd: '25' }],
    });
    expect(tenantBudget.status).toBe(200);
    const userBudget = await admin.put('/v1/admin/budgets', {
      budgets: [{ scope: 'user', scopeId: tenant.admin.id, period: 'day', limitUsd: '2' }],
    });
    expect(userBudget.status).toBe(200);
    const conversation = (await admin.post('/v1/conversations', {})).body.id as string;
    for (const content of ['How long do refunds take?', 'And for exchanges?']) {
      const turn = await admin.post(`/v1/conversations/${conversation}/messages`, { content });
      expect(turn.status).toBe(201);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await fake?.close();
  });

  afterEach(() => {
    const seen = problems;
    problems = [];
    expect(seen).toEqual([]);
  });

  async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
    const context: BrowserContext = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      // The console then skips its transitions: axe and screenshots see pages at rest.
      reducedMotion: 'reduce',
      ...options,
    });
    // Chromium reports CSP violations as events; any of them fails the scenario. (Scripts for
    // the page are strings here: this file is type-checked without the DOM library.)
    await context.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) =>
        console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`,
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      // Refused requests (a refresh without a session, an expired token) are expected here.
      if (text.startsWith('Failed to load resource')) return;
      problems.push(`console error: ${text}`);
    });
    return page;
  }

  /** axe on the page as it is: no serious or critical violation. */
  async function expectAccessible(page: Page, name: string): Promise<void> {
    const { violations } = await new AxeBuilder({ page }).analyze();
    const bad = violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      );
    expect({ page: name, violations: bad }).toEqual({ page: name, violations: [] });
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    // No notification over the page in the picture.
    const close = page.getByRole('button', { name: 'Close notification' });
    for (let i = 0; i < 10 && (await close.count()) > 0; i++)
      await close
        .first()
        .click({ timeout: 1000 })
        .catch(() => undefined); // it may have closed itself meanwhile
    await page.mouse.move(0, 0); // no hover state (a chart's tooltip) in the picture
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async function logIn(page: Page, email: string, password: string, tenantName?: string) {
    await page.goto(`${base}/console/login`);
    await page.getByLabel(/^Email/).fill(email);
    await page.getByLabel(/^Password/).fill(password);
    if (tenantName) await page.getByLabel(/^Tenant/).fill(tenantName);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  }

  const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

  it('serves the console with a strict CSP, cached assets and deep links', async () => {
    const index = await t.app.inject({ method: 'GET', url: '/console/api-keys' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-store');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).not.toContain('unsafe-inline');
    const nonce = /style-src 'self' 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(index.body).toContain(`nonce="${nonce}"`);
    expect(index.body).not.toContain('PARLEY_CSP_NONCE');

    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
    const asset = await t.app.inject({ method: 'GET', url: script! });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await t.app.inject({ method: 'GET', url: '/console/assets/nothing-here.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    // Every other route keeps the strict policy, but for the third-party UIs that need inline
    // scripts and styles (Swagger UI, bull-board).
    const api = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(String(api.headers['content-security-policy'])).not.toContain('unsafe-inline');
    for (const url of ['/docs', '/admin/queues']) {
      const ui = await t.app.inject({ method: 'GET', url });
      expect({ url, csp: ui.headers['content-security-policy'] }).toEqual({
        url,
        csp: expect.stringContaining("script-src 'self' 'unsafe-inline'"),
      });
    }
  });

  it('logs in and out', async () => {
    const page = await newPage();
    await page.goto(`${base}/console/`);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await expectAccessible(page, 'login');
    await screenshot(page, 'login');

    // A wrong password shows the API's problem detail.
    await page.getByLabel(/^Email/).fill(tenant.admin.email);
    await page.getByLabel(/^Password/).fill('not the password');
    await page.getByLabel(/^Tenant/).fill(tenant.name);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('The email, password or tenant is wrong.').waitFor();

    await logIn(page, tenant.admin.email, tenant.admin.password, tenant.name);
    await page.getByTestId('role').getByText('Tenant admin').waitFor();
    await page.getByTestId('stat-requests').getByText('2').waitFor();
    await page.locator('.recharts-surface').first().waitFor();
    await expectAccessible(page, 'overview');
    await screenshot(page, 'overview');
    // The refresh token is in an httpOnly cookie scoped to the auth routes, out of scripts' reach.
    const cookies = await page.context().cookies(`${base}/v1/auth/refresh`);
    expect(cookies).toEqual([
      expect.objectContaining({
        name: 'parley_refresh',
        httpOnly: true,
        sameSite: 'Strict',
        path: '/v1/auth',
        secure: false, // plain http on 127.0.0.1; Secure everywhere else
      }),
    ]);
    expect(await page.evaluate('document.cookie')).toBe('');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    expect(await page.context().cookies(`${base}/v1/auth/refresh`)).toEqual([]);
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.context().close();
  });

  it('keeps the session over a reload, and refreshes an expired access token', async () => {
    const page = await newPage();
    await logIn(page, tenant.admin.email, tenant.admin.password, tenant.name);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();

    // The reload loses the access token (memory only); the cookie restores the session. That
    // refresh hands out an access token that has already expired, as one does after 15 idle
    // minutes: the first call gets 401, and the console refreshes once and retries.
    const expired = sign({ tid: tenant.id, iat_ms: Date.now() - 60_000 }, TEST_JWT_KEY.secret, {
      algorithm: 'HS256',
      keyid: TEST_JWT_KEY.kid,
      issuer: t.config.security.jwt.issuer,
      audience: t.config.security.jwt.audience,
      subject: tenant.admin.id,
      jwtid: 'console-expired',
      expiresIn: -30,
    });
    let handedOut = false;
    await page.route('**/v1/auth/refresh', async (route) => {
      const response = await route.fetch();
      if (handedOut || response.status() !== 200) return route.fulfill({ response });
      handedOut = true;
      const body = (await response.json()) as { accessToken: string };
      await route.fulfill({ response, json: { ...body, accessToken: expired } });
    });
    // The session's own calls only: a page request from before the reload may still land here.
    const statuses: string[] = [];
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/v1/auth/')) statuses.push(`${r.status()} ${path}`);
    });
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByTestId('role').getByText('Tenant admin').waitFor();
    expect(handedOut).toBe(true);
    expect(statuses.slice(0, 4)).toEqual([
      '200 /v1/auth/refresh',
      '401 /v1/auth/me',
      '200 /v1/auth/refresh',
      '200 /v1/auth/me',
    ]);
    await page.context().close();
  });

  it('shows a member no admin navigation, and refuses a direct URL to an admin page', async () => {
    const page = await newPage();
    await logIn(page, member.email, member.password, tenant.name);
    await page.getByTestId('role').getByText('Member').waitFor();
    await expect(nav(page).getByRole('link').allTextContents()).resolves.toEqual([
      'Overview',
      'Usage and cost',
      'Playground',
      'API keys',
      'Knowledge bases',
    ]);
    await page.goto(`${base}/console/audit-log`);
    await page.getByRole('heading', { level: 1, name: 'Not allowed' }).waitFor();
    await page.getByText('The audit log is for tenant admins only.').waitFor();
    await expectAccessible(page, 'refused');
    await screenshot(page, 'refused');
    // The API refuses it as well: the console only says so first.
    expect((await member.client.get('/v1/admin/audit-logs')).status).toBe(403);
    await page.context().close();
  });

  it('creates an API key and shows its secret once, with a copy button', async () => {
    const page = await newPage({ permissions: ['clipboard-read', 'clipboard-write'] });
    await logIn(page, tenant.admin.email, tenant.admin.password, tenant.name);
    await nav(page).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const form = page.getByRole('dialog', { name: 'Create an API key' });
    await form.getByLabel(/^Name/).fill('support-bot production');
    await form.getByLabel(/^rag:read/).check();
    await expectAccessible(page, 'api-key-create');
    await screenshot(page, 'api-key-create');
    await form.getByRole('button', { name: 'Create' }).click();

    const shown = page.getByRole('dialog', { name: 'Copy your new API key' });
    const secret = (await shown.getByTestId('api-key-secret').textContent())!.trim();
    expect(secret).toMatch(/^pk_/);
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    // The list behind the dialog has been read again (not its empty state while it loads).
    await page.locator('td', { hasText: 'support-bot production' }).waitFor();
    await expectAccessible(page, 'api-key-secret');
    await screenshot(page, 'api-key-secret');
    // The secret is a working key…
    const me = await new Client(t.app, secret).get('/v1/auth/me');
    expect(me.body).toMatchObject({ kind: 'apiKey', scopes: ['chat', 'rag:read'] });
    // …and once the dialog is closed it is gone from the page for good.
    await shown.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('cell', { name: 'support-bot production', exact: true }).waitFor();
    expect(await page.getByText(secret).count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    await expectAccessible(page, 'api-keys');
    await screenshot(page, 'api-keys');
    await page.context().close();
  });

  it('shows the key creation in the audit log, filtered by action', async () => {
    const page = await newPage();
    await logIn(page, tenant.admin.email, tenant.admin.password, tenant.name);
    await nav(page).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByRole('combobox', { name: 'Action' }).click();
    await page.getByRole('option', { name: /API key created/ }).click();
    await page.locator('[data-action="apikey.created"]').first().waitFor();
    const shown = await page
      .locator('[data-action]')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-action')));
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown)).toEqual(new Set(['apikey.created']));
    await expectAccessible(page, 'audit-log');
    await screenshot(page, 'audit-log');
    await page.context().close();
  });

  it('shows a superadmin the tenants', async () => {
    const page = await newPage();
    await logIn(page, ROOT.email, ROOT.password);
    await page.getByTestId('role').getByText('Superadmin').waitFor();
    await nav(page).getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor();
    await page.getByRole('cell', { name: tenant.name }).first().waitFor();
    await expectAccessible(page, 'tenants');
    await screenshot(page, 'tenants');
    await page.context().close();
  });

  /** Chooses an option of a segmented control by its label. */
  const segment = (page: Page, label: string) =>
    page.locator('label.mantine-SegmentedControl-label').filter({ hasText: label }).click();

  /** Logs the tenant admin in and opens a page from the navigation. */
  async function openAsAdmin(link: string, heading: string | RegExp = link): Promise<Page> {
    const page = await newPage();
    await logIn(page, tenant.admin.email, tenant.admin.password, tenant.name);
    await nav(page).getByRole('link', { name: link }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    return page;
  }

  it('lets an admin create a user, change their role and disable them', async () => {
    const page = await openAsAdmin('Users');
    await page.getByRole('button', { name: 'Create user' }).click();
    const form = page.getByRole('dialog', { name: 'Create a user' });
    await form.getByLabel(/^Name/).fill('Robin Reviewer');
    await form.getByLabel(/^Email/).fill(`robin-${tenant.name}@example.com`);
    // The API's answer to a common password shows next to the field.
    await form.getByLabel(/^Password/).fill('password1234');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByText(/commonly used passwords/).waitFor();
    expect(await form.getByTestId('error').count()).toBe(0);
    await form.getByLabel(/^Password/).fill('a long and unusual passphrase 42');
    await expectAccessible(page, 'user-create');
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('cell', { name: 'Robin Reviewer', exact: true }).waitFor();

    await page.getByRole('combobox', { name: 'Role of Robin Reviewer' }).click();
    await page.getByRole('option', { name: 'Tenant admin' }).click();
    await page.getByText('Robin Reviewer: active, admin.').waitFor();
    await page.getByRole('button', { name: 'Disable Robin Reviewer' }).click();
    await page.getByRole('button', { name: 'Enable Robin Reviewer' }).waitFor();
    const users = (await tenant.admin.client.get('/v1/admin/users')).body.items as {
      name: string;
      role: string;
      disabled: boolean;
    }[];
    expect(users.find((u) => u.name === 'Robin Reviewer')).toMatchObject({
      role: 'admin',
      disabled: true,
    });
    await expectAccessible(page, 'users');
    await screenshot(page, 'users');
    await page.context().close();
  });

  it('sets a budget, and the overview shows it', async () => {
    const page = await openAsAdmin('Budgets and pricing');
    await page.getByRole('table', { name: 'Prices' }).waitFor();
    await page.getByRole('button', { name: 'Set a budget' }).click();
    const form = page.getByRole('dialog', { name: 'Set a budget' });
    await form.getByRole('combobox', { name: 'User' }).click();
    await page.getByRole('option', { name: new RegExp(tenant.admin.email) }).click();
    await form.getByLabel(/^Limit/).fill('not money');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByText('A dollar amount, e.g. 25 or 2.50').waitFor();
    await form.getByLabel(/^Limit/).fill('7.50');
    await form.getByLabel(/^Per request/).fill('0.25');
    await expectAccessible(page, 'budget-edit');
    await screenshot(page, 'budget-edit');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'hidden' });
    const rules = page.getByRole('table', { name: 'Budget rules' });
    await rules.getByRole('cell', { name: '$7.50' }).waitFor();
    await page
      .locator('.mantine-Card-root', { hasText: 'You · per day' })
      .getByText('$7.50')
      .waitFor();

    // A tenant admin may raise a price, not lower it: the API's refusal shows in the form.
    await page.getByRole('button', { name: 'Set price of fake-model' }).click();
    const price = page.getByRole('dialog', { name: 'Price of fake-model' });
    await price.getByLabel(/^Input/).fill('0.01');
    await price.getByRole('button', { name: 'Save' }).click();
    await price.getByTestId('error').waitFor();
    await price.getByLabel(/^Input/).fill('3');
    await price.getByRole('button', { name: 'Save' }).click();
    await price.waitFor({ state: 'hidden' });
    const prices = page.getByRole('table', { name: 'Prices' });
    await prices.getByRole('row', { name: /fake-model.*\$3\.00.*Tenant override/ }).waitFor();
    await expectAccessible(page, 'budgets');
    await screenshot(page, 'budgets');
    await page.getByRole('button', { name: 'Remove the price override of fake-model' }).click();
    await prices.getByRole('row', { name: /fake-model.*\$2\.00.*Configuration/ }).waitFor();

    await nav(page).getByRole('link', { name: 'Overview' }).click();
    const card = page.locator('.mantine-Card-root', { hasText: 'You · per day' });
    await card.getByText('$7.50').waitFor();
    // Any user's budgets, for admins of their tenant only.
    const status = (userId: string) => `/v1/admin/budgets/status?userId=${userId}`;
    const ofMember = await tenant.admin.client.get(status(member.id));
    expect(ofMember.status).toBe(200);
    expect(ofMember.body.items.map((b: { scope: string }) => b.scope)).not.toContain('global');
    expect((await member.client.get(status(member.id))).status).toBe(403);
    const other = await createTenant(t.app);
    expect((await other.admin.client.get(status(member.id))).status).toBe(404);
    const stored = await tenant.admin.client.get('/v1/usage/budgets');
    expect(stored.body.items).toContainEqual(
      expect.objectContaining({ scope: 'user', period: 'day', limitUsd: '7.500000000' }),
    );
    await page.context().close();
  });

  it('checks a text in the guardrail try-it box and marks the PII span', async () => {
    const page = await openAsAdmin('Guardrails');
    const text = 'My claim is 4711, mail me at jane.doe@example.com please.';
    await page.getByLabel('Text to check').fill(text);
    await page.getByRole('button', { name: 'Check' }).click();
    const verdict = page.getByTestId('verdict');
    await verdict.getByText('redact', { exact: true }).first().waitFor();
    const marked = verdict.locator('mark');
    await expect(marked.allTextContents()).resolves.toEqual(['jane.doe@example.com']);
    expect(await marked.getAttribute('data-finding')).toBe('EMAIL_ADDRESS');
    await page.getByRole('table', { name: 'Guardrail policy' }).waitFor();
    await expectAccessible(page, 'guardrails');
    await screenshot(page, 'guardrails');

    // The policy: flag PII on input instead of redacting it, then restore the defaults.
    await page.getByRole('combobox', { name: 'Action of Personal data (PII) on input' }).click();
    await page.getByRole('option', { name: 'flag', exact: true }).click();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('The guardrail policy is saved.').waitFor();
    expect((await tenant.admin.client.get('/v1/admin/guardrails')).body.override).toEqual({
      input: { pii: { action: 'flag' } },
    });
    await page.getByRole('button', { name: 'Check' }).click();
    await verdict.getByText('flag', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'Restore defaults' }).click();
    await page.getByText('The defaults apply again.').waitFor();
    expect((await tenant.admin.client.get('/v1/admin/guardrails')).body.override).toEqual({});
    await page.context().close();
  });

  it('uploads a document, watches it become ready and finds it in the search playground', async () => {
    const page = await openAsAdmin('Knowledge bases');
    await page.getByRole('button', { name: 'Create knowledge base' }).click();
    const form = page.getByRole('dialog', { name: 'Create a knowledge base' });
    await form.getByLabel(/^Name/).fill('Claims handbook');
    await form.getByLabel(/^Description/).fill('How claims and refunds work.');
    await form.getByRole('button', { name: 'Create' }).click();
    await page
      .getByRole('heading', { level: 1, name: 'Knowledge base: Claims handbook' })
      .waitFor();

    // The first list read after the upload is shown as still processing (tiny documents are
    // ready at once): the page must poll until the document is ready.
    const seen: string[] = [];
    let held = false;
    await page.route('**/v1/knowledge-bases/*/documents*', async (route) => {
      if (route.request().method() !== 'GET') return route.fallback();
      const response = await route.fetch();
      const body = (await response.json()) as { items: { status: string }[] };
      if (!held && body.items.length > 0) {
        held = true;
        body.items = body.items.map((d) => ({ ...d, status: 'processing' }));
      }
      seen.push(...body.items.map((d) => d.status));
      await route.fulfill({ response, json: body });
    });
    await page.locator('input[type="file"]').setInputFiles({
      name: 'hail-damage.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(
        '# Hail damage\n\nA hail damage claim needs photos of the roof and the repair estimate. ' +
          'The adjuster visits within ten working days.\n',
      ),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const documents = page.getByRole('table', { name: 'Documents' });
    await documents.locator('[data-status="processing"]').waitFor();
    await documents.locator('[data-status="ready"]').waitFor({ timeout: 20_000 });
    expect(seen[0]).toBe('processing');
    expect(seen.at(-1)).toBe('ready');
    await expectAccessible(page, 'knowledge-base');

    await page.getByLabel('Query').fill('hail roof photos');
    await segment(page, 'Lexical');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('table', { name: 'Search results' });
    await results.getByText(/adjuster visits within ten working days/).waitFor();
    await expect(page.getByTestId('search-mode').textContent()).resolves.toMatch(/^Ran as lexical/);
    await expect(
      results.getByRole('row').nth(1).getByRole('cell').first().textContent(),
    ).resolves.toBe('1');
    await expectAccessible(page, 'knowledge-base-search');
    await screenshot(page, 'knowledge-base');

    await nav(page).getByRole('link', { name: 'Knowledge bases' }).click();
    await page.getByRole('link', { name: 'Claims handbook' }).waitFor();
    await expectAccessible(page, 'knowledge-bases');
    await screenshot(page, 'knowledge-bases');
    await page.context().close();
  });

  it('shows usage over a date range with a chart, a table and a CSV export', async () => {
    const page = await openAsAdmin('Usage and cost');
    const table = page.getByRole('table', { name: 'Usage' });
    await table.getByRole('cell', { name: new Date().toISOString().slice(0, 10) }).waitFor();
    await page.locator('.recharts-surface').first().waitFor();
    await segment(page, 'Model');
    await table.getByRole('cell', { name: 'fake-model' }).waitFor();
    await expectAccessible(page, 'usage');
    await screenshot(page, 'usage');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^usage-model-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^model,requests,/);
    expect(csv).toContain('fake-model');

    // A range the API refuses: its message shows next to the field.
    await page.getByLabel('From').fill('2020-01-01');
    await page.getByText(/the range may span at most/).waitFor();
    await page.context().close();
  });

  it('streams an answer in the playground', async () => {
    // Output guardrails release the answer sentence by sentence: three sentences, slowly.
    const reply =
      'Refunds take five to seven working days. Exchanges take three. Gift cards arrive at once.';
    // Slow enough that the page shows the first sentence well before the last one arrives,
    // even on a busy machine (about a second and a half between them).
    fake.configure({ tokenDelayMs: 250 });
    fake.replyNext(reply);
    try {
      const page = await openAsAdmin('Playground');
      await page.getByRole('button', { name: 'New conversation' }).click();
      const form = page.getByRole('dialog', { name: 'Start a conversation' });
      await form.getByLabel(/^Title/).fill('Refund question');
      await form.getByRole('button', { name: 'Start' }).click();
      await form.waitFor({ state: 'hidden' });
      await expect(
        page.getByRole('combobox', { name: 'Conversation' }).inputValue(),
      ).resolves.toMatch(/^Refund question/);

      const streamed = page.waitForResponse(
        (r) =>
          r.request().method() === 'POST' && /\/v1\/conversations\/[^/]+\/messages$/.test(r.url()),
      );
      await page.getByLabel('Message').fill('How long do refunds take?');
      await page.getByRole('button', { name: 'Send' }).click();
      const response = await streamed;
      expect(response.headers()['content-type']).toMatch(/^text\/event-stream/);
      // The first sentence is on the page before the last one has arrived.
      const answer = page.getByTestId('streaming-answer');
      await answer.getByText(/Refunds take five to seven working days\./).waitFor();
      expect(await answer.textContent()).not.toContain('Gift cards');
      await page.locator('[data-role="assistant"]').getByText(reply).waitFor();
      expect(await answer.count()).toBe(0);
      await expectAccessible(page, 'playground');
      await screenshot(page, 'playground');
      await page.context().close();
    } finally {
      fake.configure({ tokenDelayMs: 0 });
    }
  });

  describe('the session cookie over HTTP', () => {
    const cookieLogin = async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        headers: { origin: base, host: new URL(base).host },
        payload: {
          email: tenant.admin.email,
          password: tenant.admin.password,
          tenant: tenant.name,
          cookie: true,
        },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).not.toHaveProperty('refreshToken');
      const setCookie = String(res.headers['set-cookie']);
      expect(setCookie).toMatch(
        /^parley_refresh=[^;]+; Max-Age=\d+; Path=\/v1\/auth; HttpOnly; SameSite=Strict$/,
      );
      return setCookie.split(';')[0]!;
    };
    const refresh = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        headers: { host: new URL(base).host, ...headers },
        payload: {},
      });

    it('refuses a refresh with the cookie from another origin, or with none: 403', async () => {
      const cookie = await cookieLogin();
      for (const origin of ['https://evil.example', `http://localhost:1`, undefined]) {
        const res = await refresh({ cookie, ...(origin ? { origin } : {}) });
        expect({ origin, status: res.statusCode }).toEqual({ origin, status: 403 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json()).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
      }
      // The same cookie from the console's own origin works (it was not used up above).
      const ok = await refresh({ cookie, origin: base });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({
        accessToken: expect.any(String),
        expiresIn: expect.any(Number),
        tokenType: 'Bearer',
      });
      expect(String(ok.headers['set-cookie'])).toMatch(/^parley_refresh=/);
      expect(String(ok.headers['set-cookie'])).not.toContain(cookie);
      // A configured CORS origin may use it too (config/test.yaml allows https://allowed.example).
      const next = String(ok.headers['set-cookie']).split(';')[0]!;
      expect((await refresh({ cookie: next, origin: 'https://allowed.example' })).statusCode).toBe(
        200,
      );
    });

    it('marks the cookie Secure except on plain-http localhost', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        headers: { origin: 'http://parley.example', host: 'parley.example' },
        payload: {
          email: tenant.admin.email,
          password: tenant.admin.password,
          tenant: tenant.name,
          cookie: true,
        },
      });
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure; SameSite=Strict$/);
    });

    it('ends the session on logout with the cookie, and clears it', async () => {
      const cookie = await cookieLogin();
      const out = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: { cookie, origin: base, host: new URL(base).host },
        payload: {},
      });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(
        /^parley_refresh=; Max-Age=0; Path=\/v1\/auth/,
      );
      const after = await refresh({ cookie, origin: base });
      expect(after.statusCode).toBe(401);
      // A revoked session's token counts as reused.
      expect(after.json().code).toMatch(/^REFRESH_TOKEN_(INVALID|REUSED)$/);
    });

    it('keeps body-token clients as they were', async () => {
      const login = await new Client(t.app).post('/v1/auth/login', {
        email: tenant.admin.email,
        password: tenant.admin.password,
        tenant: tenant.name,
      });
      expect(login.status).toBe(200);
      expect(login.headers['set-cookie']).toBeUndefined();
      const renewed = await new Client(t.app).post('/v1/auth/refresh', {
        refreshToken: login.body.refreshToken,
      });
      expect(renewed.status).toBe(200);
      expect(renewed.body.refreshToken).toEqual(expect.any(String));
      const none = await new Client(t.app).post('/v1/auth/refresh', {});
      expect(none.status).toBe(400);
      expect(none.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });
});

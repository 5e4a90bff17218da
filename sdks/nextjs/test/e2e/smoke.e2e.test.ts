// The smoke subset, on every variant but the main one (which gets the whole suite in
// app.e2e.test.ts): a protected page, sign-in, the session in Server and Client Components, the
// protected API for a browser and for a machine caller, sign-out. The proxy.ts variant, written in
// the callback form, also shows protect() at work: /pages-router (open in the main variant) needs a
// session, and /admin a role.
import { describe, expect, it, inject, beforeAll, afterAll } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const e = inject('e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const smoke = e.apps.filter((a) => !a.full);

describe.runIf(smoke.length > 0).each(smoke)('$name (smoke)', (app) => {
  let profileDir: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    profileDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15000);
  });

  afterAll(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  const pathOf = (url: string) => {
    const u = new URL(url);
    expect(u.origin).toBe(app.url);
    return u.pathname + u.search;
  };
  const get = (p: string, headers: Record<string, string> = {}) => fetch(app.url + p, { headers, redirect: 'manual' });

  it('sends an anonymous visitor of the dashboard to the login page, and back after signing in', async () => {
    await page.goto(app.url + '/dashboard?tab=1');
    expect(pathOf(page.url())).toBe('/login?callbackUrl=%2Fdashboard%3Ftab%3D1');
    await page.getByLabel('Email').fill(e.userEmail);
    await page.getByLabel('Password').fill(e.userPassword);
    await Promise.all([page.waitForURL((u) => u.pathname === '/dashboard'), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(pathOf(page.url())).toBe('/dashboard?tab=1');
    expect(await page.getByTestId('user-email').textContent()).toBe(e.userEmail);
    // The react entry hydrated: useUser() under <GatehouseProvider>.
    await expect.poll(() => page.getByTestId('provider-user').textContent()).toBe(e.userEmail);
  });

  it('calls the protected API from client code; a machine caller gets in with its key, a stranger does not', async () => {
    await page.getByRole('button', { name: 'Call /api/protected' }).click();
    await expect.poll(() => page.getByTestId('api-result').textContent()).toMatch(/^200 /);
    const machine = await get('/api/protected', { 'X-API-Key': e.machineKey });
    expect(machine.status).toBe(200);
    expect(await machine.json()).toMatchObject({ kind: 'api_key', user: { email: 'robot@example.com' } });
    expect((await get('/api/protected')).status).toBe(401);
    expect((await get('/api/protected', { 'x-gatehouse-user-id': 'x', 'x-gatehouse-auth': 'api_key' })).status).toBe(401);
  });

  it.runIf(app.callback)('protect() in the proxy callback: /pages-router needs a session, /admin the admin role', async () => {
    const anonymous = await get('/pages-router');
    expect(anonymous.status).toBe(307);
    expect(new URL(anonymous.headers.get('location')!, app.url).searchParams.get('callbackUrl')).toBe('/pages-router');
    await page.goto(app.url + '/pages-router');
    expect(await page.getByTestId('pages-user').textContent()).toContain(e.userEmail);
    const res = await page.goto(app.url + '/admin');
    expect(res!.status()).toBe(200);
    expect(pathOf(page.url())).toBe('/login?error=forbidden&callbackUrl=%2Fadmin');
  });

  it('signs out with signOut() from the react entry', async () => {
    await page.goto(app.url + '/dashboard');
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: 'Client-side sign-out' }).click()]);
    const names = (await context.cookies(app.url)).map((c) => c.name);
    expect(names).not.toContain('gatehouse_access_token');
    expect(names).not.toContain('gatehouse_refresh_token');
    await page.goto(app.url + '/dashboard');
    expect(pathOf(page.url())).toBe('/login?callbackUrl=%2Fdashboard');
  });
});

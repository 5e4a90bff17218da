// The example app, built and started for real, driven through Debian's Chromium.
import { describe, expect, it, inject, beforeAll, afterAll } from 'vitest';
import { chromium, type BrowserContext, type Page, type Cookie } from 'playwright-core';
import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';

const e = inject('e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe.each(e.apps.filter((a) => a.full))('$name', (app) => {
  let profileDir: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    profileDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15000);
  });

  afterAll(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  async function sessionCookies(): Promise<{ access?: Cookie; refresh?: Cookie }> {
    const all = await context.cookies(app.url);
    return {
      access: all.find((c) => c.name === 'gatehouse_access_token'),
      refresh: all.find((c) => c.name === 'gatehouse_refresh_token'),
    };
  }

  /** The path and query of a page URL, which must still be on the app's origin. */
  function pathOf(url: string): string {
    const u = new URL(url);
    expect(u.origin).toBe(app.url);
    return u.pathname + u.search;
  }

  describe('the example app in a browser', () => {
    it('shows the public page to anonymous visitors', async () => {
      await page.goto(app.url + '/');
      await expect.poll(() => page.getByTestId('home-anonymous').isVisible()).toBe(true);
    });

    it('sends an anonymous visitor of the dashboard to the login page with callbackUrl', async () => {
      const res = await page.goto(app.url + '/dashboard?tab=keys');
      expect(res!.status()).toBe(200);
      expect(pathOf(page.url())).toBe('/login?callbackUrl=%2Fdashboard%3Ftab%3Dkeys');
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });

    it('shows an error for a wrong password and keeps the callbackUrl', async () => {
      await page.getByLabel('Email').fill(e.userEmail);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('login-error').waitFor();
      const u = new URL(page.url());
      expect(u.origin).toBe(app.url);
      expect(u.pathname).toBe('/login');
      expect(u.searchParams.get('error')).toBe('invalid_credentials');
      expect(u.searchParams.get('callbackUrl')).toBe('/dashboard?tab=keys');
      expect((await sessionCookies()).access).toBeUndefined();
    });

    it('signs in and lands back on the protected page it asked for', async () => {
      await page.getByLabel('Email').fill(e.userEmail);
      await page.getByLabel('Password').fill(e.userPassword);
      await Promise.all([page.waitForURL((u) => u.pathname === '/dashboard'), page.getByRole('button', { name: 'Sign in' }).click()]);
      expect(pathOf(page.url())).toBe('/dashboard?tab=keys');
      expect(await page.getByTestId('user-email').textContent()).toBe(e.userEmail);
      const { access, refresh } = await sessionCookies();
      for (const c of [access, refresh]) {
        expect(c).toBeDefined();
        expect(c!.httpOnly).toBe(true);
        expect(c!.sameSite).toBe('Lax');
        expect(c!.path).toBe('/');
        expect(c!.secure).toBe(false); // plain HTTP on loopback; over HTTPS they are __Host- and Secure
      }
      // Client-side script cannot read them.
      expect(await page.evaluate(() => document.cookie)).not.toContain('gatehouse_');
      // The dashboard hands the whole session object to a Client Component (its props are in the
      // page's HTML): the access token is not in it.
      expect(await page.getByTestId('session-badge').textContent()).toContain('session');
      const html = await (await page.request.get(app.url + '/dashboard?tab=keys')).text();
      expect(html).toContain('session-badge');
      expect(html).not.toContain(access!.value);
      expect(html).not.toContain(access!.value.split('.')[2]);
      expect(await page.content()).not.toContain(access!.value);
    });

    it('calls the protected API route from client code with the session cookie', async () => {
      await page.getByRole('button', { name: 'Call /api/protected' }).click();
      await expect.poll(() => page.getByTestId('api-result').textContent()).toMatch(/^200 /);
      const body = JSON.parse((await page.getByTestId('api-result').textContent())!.slice(4));
      expect(body).toMatchObject({ kind: 'session', user: { email: e.userEmail } });
    });

    it('refreshes silently after the access token expires, renewing both cookies', async () => {
      const before = await sessionCookies();
      const oldExp = decodeJwt(before.access!.value).exp!;
      // Wait until the access token has expired by the verifier's clock.
      await new Promise((r) => setTimeout(r, oldExp * 1000 - Date.now() + 100));
      const res = await page.goto(app.url + '/dashboard');
      expect(res!.status()).toBe(200);
      expect(pathOf(page.url())).toBe('/dashboard');
      expect(await page.getByTestId('user-email').textContent()).toBe(e.userEmail);
      const after = await sessionCookies();
      expect(after.access!.value).not.toBe(before.access!.value);
      expect(after.refresh!.value).not.toBe(before.refresh!.value);
      expect(decodeJwt(after.access!.value).exp!).toBeGreaterThan(oldExp);
      expect(after.access!.httpOnly && after.refresh!.httpOnly).toBe(true);
      // The page rendered with the renewed token (requireUser() re-verified it server-side).
      const shown = new Date((await page.getByTestId('expires-at').textContent())!).getTime() / 1000;
      expect(shown).toBe(decodeJwt(after.access!.value).exp);
      // The spent refresh token is dead at Gatehouse once the retry window is over; the new one lives.
      const r = await fetch(`${e.gatehouseUrl}/api/v1/auth/introspect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-API-Key': e.appKey },
        body: JSON.stringify({ token: after.access!.value }),
      });
      expect((await r.json()).active).toBe(true);
    });

    it('also renews on the client fetch of a protected API route after expiry', async () => {
      const before = await sessionCookies();
      const exp = decodeJwt(before.access!.value).exp!;
      await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 100));
      await page.getByRole('button', { name: 'Call /api/protected' }).click();
      await expect.poll(async () => (await sessionCookies()).access!.value).not.toBe(before.access!.value);
      await expect.poll(() => page.getByTestId('api-result').textContent()).toMatch(/^200 /);
    });

    it('runs a Server Action after the access token expired: renewed on the POST, no error', async () => {
      await page.goto(app.url + '/dashboard');
      const before = await sessionCookies();
      const exp = decodeJwt(before.access!.value).exp!;
      await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 100));
      await page.getByRole('button', { name: 'Run the Server Action' }).click();
      await expect.poll(() => page.getByTestId('action-result').textContent()).toContain(e.userEmail);
      const after = await sessionCookies();
      expect(after.access!.value).not.toBe(before.access!.value);
      expect(after.refresh!.value).not.toBe(before.refresh!.value);
      expect(pathOf(page.url())).toBe('/dashboard');
    });

    it('sends an anonymous Server Action to the login page, then back after signing in', async () => {
      await page.goto(app.url + '/dashboard');
      const saved = await context.cookies(app.url);
      await context.clearCookies();
      await Promise.all([
        page.waitForURL((u) => u.pathname === '/login'),
        page.getByRole('button', { name: 'Run the Server Action' }).click(),
      ]);
      expect(pathOf(page.url())).toBe('/login?callbackUrl=%2Fdashboard');
      await context.addCookies(saved);
      await page.goto(app.url + '/dashboard');
      expect(pathOf(page.url())).toBe('/dashboard');
    });

    it('greets the signed-in user on the public page', async () => {
      await page.goto(app.url + '/');
      await expect.poll(() => page.getByTestId('home-user').textContent()).toContain(e.userEmail);
    });

    it('reads the session in a Pages Router page (getServerSideProps + getAuth(req))', async () => {
      const res = await page.goto(app.url + '/pages-router');
      expect(res!.status()).toBe(200);
      expect(await page.getByTestId('pages-user').textContent()).toContain(e.userEmail);
      const anonymous = await (await fetch(app.url + '/pages-router')).text();
      expect(anonymous).toContain('pages-anonymous');
    });

    it('signs out: the session is revoked at Gatehouse and the cookies are gone', async () => {
      await page.goto(app.url + '/dashboard');
      const before = await sessionCookies();
      await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: 'Sign out' }).click()]);
      const after = await sessionCookies();
      expect(after.access).toBeUndefined();
      expect(after.refresh).toBeUndefined();
      const r = await fetch(`${e.gatehouseUrl}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: before.refresh!.value }),
      });
      expect(r.status).toBe(401);
      await page.goto(app.url + '/dashboard');
      expect(pathOf(page.url())).toBe('/login?callbackUrl=%2Fdashboard');
    });

    it('signs in again; useUser() under <GatehouseProvider> shows the user, and signOut() from the react entry signs out', async () => {
      await page.getByLabel('Email').fill(e.userEmail);
      await page.getByLabel('Password').fill(e.userPassword);
      await Promise.all([page.waitForURL((u) => u.pathname === '/dashboard'), page.getByRole('button', { name: 'Sign in' }).click()]);
      await expect.poll(() => page.getByTestId('provider-user').textContent()).toBe(e.userEmail);
      const before = await sessionCookies();
      expect(before.refresh).toBeDefined();
      await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: 'Client-side sign-out' }).click()]);
      const after = await sessionCookies();
      expect(after.access).toBeUndefined();
      expect(after.refresh).toBeUndefined();
      const r = await fetch(`${e.gatehouseUrl}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: before.refresh!.value }),
      });
      expect(r.status).toBe(401);
    });

    it("signIn() from the react entry without arguments goes to the login page, back to the current page", async () => {
      await page.goto(app.url + '/');
      await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: 'Go to the sign-in page' }).click()]);
      expect(pathOf(page.url())).toBe('/login?callbackUrl=%2F');
    });

    it('signIn(undefined, { email, password }) from the react entry: a wrong password is reported, the right one signs in', async () => {
      await page.goto(app.url + '/');
      await page.getByLabel('signIn() email').fill(e.userEmail);
      await page.getByLabel('signIn() password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in with signIn()' }).click();
      await expect.poll(() => page.getByTestId('client-sign-in-error').textContent()).toBe('invalid_credentials');
      expect((await sessionCookies()).access).toBeUndefined();
      expect(pathOf(page.url())).toBe('/');
      // React resets a form after its action ran: fill both fields again.
      await page.getByLabel('signIn() email').fill(e.userEmail);
      await page.getByLabel('signIn() password').fill(e.userPassword);
      await Promise.all([page.waitForURL((u) => u.pathname === '/dashboard'), page.getByRole('button', { name: 'Sign in with signIn()' }).click()]);
      expect(await page.getByTestId('user-email').textContent()).toBe(e.userEmail);
      const { access, refresh } = await sessionCookies();
      expect(access?.httpOnly).toBe(true);
      expect(refresh?.httpOnly).toBe(true);
      expect(await page.evaluate(() => document.cookie)).not.toContain('gatehouse_');
    });
  });

  describe('the example app over plain HTTP (machine callers, bypass attempts)', () => {
    const get = (p: string, headers: Record<string, string> = {}) => fetch(app.url + p, { headers, redirect: 'manual' });

    it('lets a machine caller in with X-API-Key, checked through introspection', async () => {
      const ok = await get('/api/protected', { 'X-API-Key': e.machineKey });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ kind: 'api_key', user: { email: 'robot@example.com' }, scopes: ['profile:read'] });
      const bad = await get('/api/protected', { 'X-API-Key': 'ak_' + 'x'.repeat(38) });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('content-type')).toBe('application/problem+json');
      expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const none = await get('/api/protected');
      expect(none.status).toBe(401);
    });

    it.each([
      '/dashboard',
      '//dashboard',
      '/dashboard/',
      '/Dashboard',
      '/%2Fdashboard',
      '/dashboard%2F..',
      '/%64ashboard',
      '/dashboard;x',
      '/_next/static/..%2F..%2Fdashboard',
      '/_next/data/x/dashboard.json',
      '/dashboard.rsc',
    ])('never serves the dashboard to %s without a session', async (p) => {
      for (const headers of [{}, { 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' }, { RSC: '1' }] as Record<string, string>[]) {
        const res = await get(p, headers);
        const body = await res.text();
        expect(body, `${p} ${JSON.stringify(headers)}`).not.toContain('data-testid="dashboard"');
        expect(body).not.toContain('Access token expires');
        if (res.status >= 300 && res.status < 400) {
          const loc = new URL(res.headers.get('location')!, app.url);
          expect(loc.origin).toBe(app.url);
        }
      }
    });

    it('refuses API bypass attempts', async () => {
      for (const p of ['//api/protected', '/API/protected', '/api%2Fprotected', '/api/protected/']) {
        for (const headers of [{}, { 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' }] as Record<string, string>[]) {
          const res = await get(p, headers);
          const body = await res.text();
          expect(body, p).not.toContain('"kind"');
          expect(res.status, p).not.toBe(200);
        }
      }
    });

    it('refuses forged identity headers', async () => {
      const res = await get('/api/protected', { 'x-gatehouse-user-id': 'admin', 'x-gatehouse-auth': 'api_key' });
      expect(res.status).toBe(401);
    });

    it('redirects a login with an open-redirect callbackUrl to a same-site page', async () => {
      for (const evil of ['//evil.com', '/\\evil.com', 'https://evil.com', '/..//evil.com']) {
        const res = await fetch(app.url + '/api/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: app.url },
          body: new URLSearchParams({ email: e.userEmail, password: e.userPassword, callbackUrl: evil }).toString(),
          redirect: 'manual',
        });
        expect(res.status).toBe(303);
        expect(res.headers.get('location'), evil).toBe('/');
      }
    });
  });
});

// Every variant: where its middleware runs, and no API key in its build.
describe.each(e.apps)('$name', (app) => {
  describe('the build', () => {
    it('runs the middleware on the runtime its file convention implies', () => {
      const edge = JSON.parse(readFileSync(path.join(app.dir, '.next/server/middleware-manifest.json'), 'utf8'));
      if (app.runtime === 'edge') {
        expect(Object.keys(edge.middleware)).toEqual(['/']);
      } else {
        const functions = JSON.parse(readFileSync(path.join(app.dir, '.next/server/functions-config-manifest.json'), 'utf8'));
        expect(edge.middleware).toEqual({});
        expect(functions.functions['/_middleware'].runtime).toBe('nodejs');
      }
    });
  });

  describe('the built client bundles', () => {
    function files(dir: string): string[] {
      const out: string[] = [];
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) out.push(...files(p));
        else out.push(p);
      }
      return out;
    }

    it('do not contain the API key (nor does any build output)', () => {
      expect(app.builtWithKey, 'the build must have had GATEHOUSE_API_KEY in its environment').toBe(true);
      const staticFiles = files(path.join(app.dir, '.next/static'));
      expect(staticFiles.length).toBeGreaterThan(0);
      const secrets = [e.appKey, e.appKey.slice(3, 20)];
      const hits = (list: string[]) => list.filter((f) => secrets.some((s) => readFileSync(f).includes(s)));
      expect(hits(staticFiles), 'API key found in client bundles').toEqual([]);
      // Stricter: the key is read at run time, so no build artefact at all should contain it.
      expect(hits(files(path.join(app.dir, '.next')).filter((f) => !f.includes(`${path.sep}cache${path.sep}`))), 'API key baked into the build').toEqual([]);
    });
  });
});

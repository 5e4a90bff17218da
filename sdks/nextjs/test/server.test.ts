// `@gatehouse/next-sdk/server`: route handlers and re-verification, against real Gatehouse servers.
import { describe, expect, it, inject, beforeAll, vi } from 'vitest';
import { createGatehouse, has, type Gatehouse, type ServerOptions } from '../src/server.js';
import { forwarded, passed } from './helpers.js';
import type { TokenResponse } from '../src/client.js';
import {
  DEAD_URL,
  PASSWORD,
  cookiesOf,
  cookieValue,
  introspect,
  refreshStatus,
  register,
  req,
  setCookies,
  uniqueEmail,
  waitUntilExpired,
} from './helpers.js';

const main = inject('main');
const short = inject('short');
const APP = 'http://localhost:3000';
const AUTH = APP + '/api/auth';

function gh(extra: Partial<ServerOptions> = {}, server = main): Gatehouse {
  return createGatehouse({ apiKey: server.appKey, authUrl: server.url, ...extra });
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

function expectSessionCookies(res: Response, secure = false) {
  const prefix = secure ? '__Host-' : '';
  const cs = setCookies(res);
  for (const name of ['gatehouse_access_token', 'gatehouse_refresh_token']) {
    const c = cs.find((x) => x.name === prefix + name);
    expect(c, name).toBeDefined();
    expect(c!.value.length).toBeGreaterThan(20);
    expect(c!.attrs['httponly']).toBe(true);
    expect(String(c!.attrs['samesite']).toLowerCase()).toBe('lax');
    expect(c!.attrs['path']).toBe('/');
    expect(c!.attrs['secure'] === true).toBe(secure);
    expect(Number(c!.attrs['max-age'])).toBeGreaterThan(0);
  }
  return {
    access: cs.find((x) => x.name === prefix + 'gatehouse_access_token')!.value,
    refresh: cs.find((x) => x.name === prefix + 'gatehouse_refresh_token')!.value,
  };
}

let alice: TokenResponse;
beforeAll(async () => {
  alice = await register(main.url);
});

describe('login handler', () => {
  it('signs in with JSON and sets HttpOnly, SameSite=Lax cookies', async () => {
    const res = await gh().handlers.POST(req(AUTH + '/login', json({ email: alice.user.email, password: PASSWORD })));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body.user.email).toBe(alice.user.email);
    expect(body.access_token).toBeUndefined();
    expect(body.refresh_token).toBeUndefined();
    expectSessionCookies(res);
  });

  it('signs in with a form post and redirects (303) to a safe callbackUrl only', async () => {
    const g = gh();
    const ok = await g.login(req(AUTH + '/login', form({ email: alice.user.email, password: PASSWORD, callbackUrl: '/dashboard?tab=2' })));
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/dashboard?tab=2');
    expectSessionCookies(ok);
    for (const evil of ['//evil.com', '/\\evil.com', 'https://evil.com', '/..//evil.com']) {
      const res = await g.login(req(AUTH + '/login', form({ email: alice.user.email, password: PASSWORD, callbackUrl: evil })));
      expect(res.status).toBe(303);
      expect(res.headers.get('location'), evil).toBe('/');
    }
  });

  it('uses __Host- Secure cookies over HTTPS', async () => {
    const res = await gh().login(req('https://app.example/api/auth/login', json({ email: alice.user.email, password: PASSWORD })));
    expect(res.status).toBe(200);
    expectSessionCookies(res, true);
  });

  it('reports a wrong password: form → back to the login page with error and callbackUrl; JSON → Gatehouse problem', async () => {
    const g = gh();
    const f = await g.login(req(AUTH + '/login', form({ email: alice.user.email, password: 'wrong password!', callbackUrl: '/dashboard' })));
    expect(f.status).toBe(303);
    const loc = new URL(f.headers.get('location')!, APP);
    expect(loc.pathname).toBe('/login');
    expect(loc.searchParams.get('error')).toBe('invalid_credentials');
    expect(loc.searchParams.get('callbackUrl')).toBe('/dashboard');
    expect(setCookies(f)).toEqual([]);
    const j = await g.login(req(AUTH + '/login', json({ email: alice.user.email, password: 'wrong password!' })));
    expect(j.status).toBe(401);
    expect(j.headers.get('content-type')).toBe('application/problem+json');
    expect(await j.json()).toMatchObject({ status: 401, detail: 'Incorrect email or password' });
    // An evil callbackUrl is dropped from the error redirect too.
    const e = await g.login(req(AUTH + '/login', form({ email: 'x@example.com', password: 'nope nope', callbackUrl: '//evil.com' })));
    expect(new URL(e.headers.get('location')!, APP).searchParams.get('callbackUrl')).toBeNull();
  });

  it('refuses cross-site posts (login CSRF)', async () => {
    const g = gh();
    const body = { email: alice.user.email, password: PASSWORD };
    for (const headers of [{ origin: 'https://evil.com' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const res = await g.login(req(AUTH + '/login', json(body, headers)));
      expect(res.status).toBe(403);
      expect(setCookies(res)).toEqual([]);
    }
    expect((await g.login(req(AUTH + '/login', json(body, { origin: APP, 'sec-fetch-site': 'same-origin' })))).status).toBe(200);
    // Behind a proxy: the browser's Host is what counts.
    expect((await g.login(req('http://10.0.0.5:3000/api/auth/login', json(body, { origin: 'https://app.example', 'x-forwarded-host': 'app.example' })))).status).toBe(200);
    expect((await gh({ trustedOrigins: ['https://admin.example'] }).login(req(AUTH + '/login', json(body, { origin: 'https://admin.example' })))).status).toBe(200);
  });

  it('answers 503 when Gatehouse is down (JSON) and sends the form back with error=unavailable', async () => {
    const g = gh({ authUrl: DEAD_URL });
    expect((await g.login(req(AUTH + '/login', json({ email: 'a@example.com', password: 'x' })))).status).toBe(503);
    const f = await g.login(req(AUTH + '/login', form({ email: 'a@example.com', password: 'x' })));
    expect(new URL(f.headers.get('location')!, APP).searchParams.get('error')).toBe('unavailable');
  });
});

describe('register handler', () => {
  it('creates the account and signs in (201)', async () => {
    const email = uniqueEmail('reg');
    const res = await gh().handlers.POST(req(AUTH + '/register', json({ email, password: PASSWORD, name: 'Reggie' })));
    expect(res.status).toBe(201);
    expect((await res.json()).user).toMatchObject({ email, name: 'Reggie' });
    expectSessionCookies(res);
    const dup = await gh().register(req(AUTH + '/register', json({ email, password: PASSWORD, name: 'Reggie' })));
    expect(dup.status).toBe(409);
  });
});

describe('logout handler', () => {
  it('revokes the session at Gatehouse and clears both cookies', async () => {
    const t = await register(main.url);
    const res = await gh().handlers.POST(req(AUTH + '/logout', { method: 'POST', cookies: cookiesOf(t) }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ signed_out: true, revoked: true });
    for (const c of setCookies(res)) {
      expect(c.value).toBe('');
      expect(c.attrs['max-age']).toBe('0');
    }
    expect(setCookies(res).map((c) => c.name).sort()).toEqual(['gatehouse_access_token', 'gatehouse_refresh_token']);
    expect(await refreshStatus(main.url, t.refresh_token)).toBe(401);
    expect((await introspect(main.url, main.appKey, t.access_token)).active).toBe(false);
  });

  it('with an expired access cookie, renews first so that the session really is revoked', async () => {
    const t = await register(short.url);
    await waitUntilExpired(t.access_token);
    // Without cookies there is nothing to revoke; it still answers as signed out.
    const res = await gh({}, short).logout(req(AUTH + '/logout', form({ callbackUrl: '/bye' })));
    expect(res.status).toBe(303);
    const res2 = await gh({}, short).logout(req(AUTH + '/logout', { ...form({ callbackUrl: '/bye' }), cookies: cookiesOf(t) }));
    expect(res2.status).toBe(303);
    expect(res2.headers.get('location')).toBe('/bye');
    expect(await refreshStatus(short.url, t.refresh_token)).toBe(401);
  });

  it('refuses cross-site sign-out', async () => {
    const t = await register(main.url);
    const res = await gh().logout(req(AUTH + '/logout', { method: 'POST', cookies: cookiesOf(t), headers: { origin: 'https://evil.com' } }));
    expect(res.status).toBe(403);
    expect(await refreshStatus(main.url, t.refresh_token)).toBe(200);
  });
});

describe('refresh and session handlers', () => {
  it('renews from the refresh cookie', async () => {
    const t = await register(main.url);
    const res = await gh().handlers.POST(req(AUTH + '/refresh', { method: 'POST', cookies: cookiesOf(t) }));
    expect(res.status).toBe(200);
    const c = expectSessionCookies(res);
    expect(c.refresh).not.toBe(t.refresh_token);
  });

  it('answers 401 without deleting cookies when the refresh cookie is missing or bad', async () => {
    const g = gh();
    const none = await g.refresh(req(AUTH + '/refresh', { method: 'POST' }));
    expect(none.status).toBe(401);
    const bad = await g.refresh(req(AUTH + '/refresh', { method: 'POST', cookies: { gatehouse_refresh_token: 'bad' } }));
    expect(bad.status).toBe(401);
    expect(setCookies(bad)).toEqual([]);
  });

  it('session: the user of a valid cookie, else 401', async () => {
    const g = gh();
    const ok = await g.handlers.GET(req(AUTH + '/session', { cookies: cookiesOf(alice) }));
    expect(ok.status).toBe(200);
    expect((await ok.json()).user).toMatchObject({ id: alice.user.id, email: alice.user.email, role: 'user' });
    expect((await g.handlers.GET(req(AUTH + '/session'))).status).toBe(401);
    expect((await g.handlers.GET(req(AUTH + '/nope'))).status).toBe(404);
    expect((await g.handlers.POST(req(AUTH + '/nope', { method: 'POST' }))).status).toBe(404);
  });
});

describe('auth(), requireUser() and withAuth()', () => {
  it('auth() re-verifies the token: cookie, Bearer, API key', async () => {
    const g = gh();
    const s = await g.auth({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) });
    expect(s).toMatchObject({ kind: 'session', user: { id: alice.user.id, email: alice.user.email, role: 'user' }, scopes: [] });
    expect(await g.getToken({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) })).toBe(alice.access_token);
    expect(await g.getToken({ request: req(APP + '/x', { headers: { 'x-api-key': main.machineKey } }) })).toBeNull();
    expect(await g.getToken({ request: req(APP + '/x') })).toBeNull();
    expect(s!.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    const b = await g.auth({ request: req(APP + '/x', { headers: { authorization: `Bearer ${alice.access_token}` } }) });
    expect(b!.user.id).toBe(alice.user.id);
    const k = await g.auth({ request: req(APP + '/x', { headers: { 'x-api-key': main.machineKey } }) });
    expect(k).toMatchObject({ kind: 'api_key', scopes: ['profile:read'], user: { email: 'machine@example.com' } });
    expect(await g.auth({ request: req(APP + '/x', { headers: { 'x-api-key': main.machineKey } }), apiKeyScopes: ['admin'] })).toBeNull();
    expect(await g.auth({ request: req(APP + '/x') })).toBeNull();
    expect(await g.auth({ request: req(APP + '/x', { cookies: { gatehouse_access_token: 'forged.token.here' } }) })).toBeNull();
    // Identity headers are never trusted by auth().
    expect(await g.auth({ request: req(APP + '/x', { headers: { 'x-gatehouse-user-id': alice.user.id, 'x-gatehouse-auth': 'session' } }) })).toBeNull();
  });

  it('the session object never carries the access token: not serialised, not rendered', async () => {
    const g = gh();
    const s = await g.auth({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) });
    expect(s).not.toBeNull();
    const token = alice.access_token;
    expect(JSON.stringify(s)).not.toContain(token);
    expect(JSON.stringify(structuredClone(s))).not.toContain(token);
    expect(Object.keys(s!)).not.toContain('accessToken');
    // (The end-to-end test renders a session handed to a Client Component and greps the HTML.)
    // The server still reaches it where it needs it.
    expect((await g.getProfile(s!)).id).toBe(alice.user.id);
  });

  it('auth() does not accept an expired token (no clock tolerance)', async () => {
    const t = await register(short.url);
    await waitUntilExpired(t.access_token);
    expect(await gh({}, short).auth({ request: req(APP + '/x', { cookies: cookiesOf(t) }) })).toBeNull();
  });

  it('auth({ introspect: true }) sees a sign-out at once', async () => {
    const t = await register(main.url);
    const g = gh();
    const r = () => req(APP + '/x', { cookies: cookiesOf(t) });
    expect(await g.auth({ request: r(), introspect: true })).not.toBeNull();
    await fetch(`${main.url}/api/v1/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${t.access_token}` } });
    expect(await gh().auth({ request: r() })).not.toBeNull(); // the JWT alone is still valid
    expect(await gh().auth({ request: r(), introspect: true })).toBeNull();
  });

  it('auth() throws GatehouseUnavailableError when the keys cannot be fetched', async () => {
    await expect(gh({ authUrl: DEAD_URL, issuer: main.url }).auth({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) })).rejects.toMatchObject({
      name: 'GatehouseUnavailableError',
    });
  });

  it('requireUser() redirects to the login page with the callbackUrl the middleware recorded', async () => {
    const g = gh();
    const run = (headers: Record<string, string>, callbackUrl?: string) =>
      g.requireUser({ request: req(APP + '/dashboard', { headers }), callbackUrl }).then(
        () => 'no redirect',
        (e: { digest?: string }) => e.digest ?? String(e),
      );
    expect(await run({ 'x-gatehouse-path': '/dashboard?tab=1' })).toMatch(/^NEXT_REDIRECT;replace;\/login\?callbackUrl=%2Fdashboard%3Ftab%3D1;307;/);
    expect(await run({ 'x-gatehouse-path': '//evil.com' })).toMatch(/^NEXT_REDIRECT;replace;\/login;307;/);
    expect(await run({}, '/reports')).toMatch(/callbackUrl=%2Freports;/);
    const s = await g.requireUser({ request: req(APP + '/dashboard', { cookies: cookiesOf(alice) }) });
    expect(s.user.id).toBe(alice.user.id);
  });

  it('requireUser() and the form handlers keep the query of a loginPath', async () => {
    const g = gh({ loginPath: '/login?x=1' });
    const digest = await g.requireUser({ request: req(APP + '/dashboard'), callbackUrl: '/reports' }).then(
      () => 'no redirect',
      (e: { digest?: string }) => e.digest ?? String(e),
    );
    expect(digest).toMatch(/^NEXT_REDIRECT;replace;\/login\?x=1&callbackUrl=%2Freports;307;/);
    const res = await g.handlers.POST(req(AUTH + '/login', form({ email: 'nobody@example.com', password: 'wrong password!', callbackUrl: '/d' })));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?x=1&error=invalid_credentials&callbackUrl=%2Fd');
  });

  it('has() and requireUser({ role }) check roles; a signed-in user without the role goes to the login page with error=forbidden', async () => {
    const g = gh();
    const s = await g.auth({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) });
    expect(has(s, { role: 'user' })).toBe(true);
    expect(has(s, { role: ['admin', 'user'] })).toBe(true);
    expect(has(s, { role: 'admin' })).toBe(false);
    expect(has(null, {})).toBe(false);
    const k = await g.auth({ request: req(APP + '/x', { headers: { 'x-api-key': main.machineKey } }) });
    expect(has(k, { scope: 'profile:read' })).toBe(true);
    expect(has(k, { scope: ['profile:read', 'credits:read'] })).toBe(false);
    const r = () => req(APP + '/admin', { cookies: cookiesOf(alice), headers: { 'x-gatehouse-path': '/admin' } });
    expect((await g.requireUser({ request: r(), role: 'user' })).user.id).toBe(alice.user.id);
    const digest = await g.requireUser({ request: r(), role: 'admin' }).then(
      () => 'no redirect',
      (e: { digest?: string }) => e.digest ?? String(e),
    );
    expect(digest).toMatch(/^NEXT_REDIRECT;replace;\/login\?error=forbidden&callbackUrl=%2Fadmin;307;/);
  });

  it('withAuth() guards a route handler', async () => {
    const g = gh();
    const handler = g.withAuth(async (_req, session) => Response.json({ id: session.user.id, kind: session.kind }));
    const anon = await handler(req(APP + '/api/thing'));
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await (await handler(req(APP + '/api/thing', { cookies: cookiesOf(alice) }))).json()).toEqual({ id: alice.user.id, kind: 'session' });
    expect((await (await handler(req(APP + '/api/thing', { headers: { 'x-api-key': main.machineKey } }))).json()).kind).toBe('api_key');
    const scoped = g.withAuth(async () => new Response('ok'), { apiKeyScopes: ['credits:read'] });
    expect((await scoped(req(APP + '/api/thing', { headers: { 'x-api-key': main.machineKey } }))).status).toBe(403);
    expect((await scoped(req(APP + '/api/thing', { headers: { 'x-api-key': main.machineKeyCredits } }))).status).toBe(200);
    const down = gh({ authUrl: DEAD_URL, issuer: main.url }).withAuth(async () => new Response('ok'));
    expect((await down(req(APP + '/api/thing', { cookies: cookiesOf(alice) }))).status).toBe(503);
  });

  it('withAuth() uses the configured apiKey, and reports a refused app key as a 500 misconfiguration', async () => {
    const saved = process.env.GATEHOUSE_API_KEY;
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // The configured key wins over the environment.
      process.env.GATEHOUSE_API_KEY = 'ak_' + 'q'.repeat(38);
      const ok = gh().withAuth(async (_r, s) => Response.json({ kind: s.kind }));
      const res = await ok(req(APP + '/api/thing', { headers: { 'x-api-key': main.machineKey } }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ kind: 'api_key' });
      delete process.env.GATEHOUSE_API_KEY;
      // Without an app key, API keys are not accepted (401), not a server error.
      const none = createGatehouse({ authUrl: main.url }).withAuth(async () => new Response('ok'));
      expect((await none(req(APP + '/api/thing', { headers: { 'x-api-key': main.machineKey } }))).status).toBe(401);
      for (const apiKey of [main.weakKey, 'ak_' + 'z'.repeat(38)]) {
        const h = createGatehouse({ authUrl: main.url, apiKey }).withAuth(async () => new Response('ok'));
        const r = await h(req(APP + '/api/thing', { headers: { 'x-api-key': main.machineKey } }));
        expect(r.status, String(apiKey)).toBe(500);
        expect(r.headers.get('retry-after')).toBeNull();
        expect(await r.json()).toMatchObject({ error_code: 'auth_app_key_invalid' });
      }
      expect(errors.mock.calls.flat().join('\n')).toMatch(/as apiKey \(createGatehouse/);
      await expect(
        createGatehouse({ authUrl: main.url, apiKey: main.weakKey }).auth({ request: req(APP + '/x', { headers: { 'x-api-key': main.machineKey } }) }),
      ).rejects.toMatchObject({ name: 'GatehouseConfigError' });
    } finally {
      if (saved === undefined) delete process.env.GATEHOUSE_API_KEY;
      else process.env.GATEHOUSE_API_KEY = saved;
      errors.mockRestore();
      warnings.mockRestore();
    }
  });

  it('getProfile() fetches the full user', async () => {
    const g = gh();
    const s = await g.auth({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) });
    expect(await g.getProfile(s!)).toMatchObject({ id: alice.user.id, name: 'Test User', email: alice.user.email });
  });
});

describe('OAuth handlers (fake GitHub behind a real Gatehouse)', () => {
  const APPTEST = 'http://app.test';

  async function start(g: Gatehouse, callbackUrl = '/dashboard') {
    const res = await g.handlers.GET(req(`${APPTEST}/api/auth/oauth/github?callbackUrl=${encodeURIComponent(callbackUrl)}`));
    expect(res.status).toBe(302);
    const authz = new URL(res.headers.get('location')!);
    expect(authz.pathname).toBe('/login/oauth/authorize');
    expect(authz.searchParams.get('redirect_uri')).toBe(`${APPTEST}/api/auth/callback/github`);
    const state = authz.searchParams.get('state')!;
    const cookie = setCookies(res).find((c) => c.name === 'gatehouse_oauth_state')!;
    expect(cookie.attrs['httponly']).toBe(true);
    expect(cookie.attrs['max-age']).toBe('600');
    return { state, cookie: cookie.value };
  }

  it('signs in through the provider and lands on callbackUrl with the session cookies', async () => {
    const g = gh();
    const { state, cookie } = await start(g);
    const res = await g.handlers.GET(
      req(`${APPTEST}/api/auth/callback/github?code=good-1&state=${encodeURIComponent(state)}`, { cookies: { gatehouse_oauth_state: cookie } }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard');
    const { access } = expectSessionCookies(res);
    const s = await g.auth({ request: req(APPTEST + '/x', { cookies: { gatehouse_access_token: access } }) });
    expect(s!.user.email).toBe('octocat@example.com');
    expect(cookieValue(res, 'gatehouse_oauth_state')).toBe('');
  });

  it('refuses a callback whose state is not bound to this browser (login CSRF)', async () => {
    const g = gh();
    const { state, cookie } = await start(g);
    const other = await start(g);
    const cases = [
      req(`${APPTEST}/api/auth/callback/github?code=good-2&state=${encodeURIComponent(state)}`), // no cookie
      req(`${APPTEST}/api/auth/callback/github?code=good-2&state=${encodeURIComponent(other.state)}`, { cookies: { gatehouse_oauth_state: cookie } }),
      req(`${APPTEST}/api/auth/callback/github?code=good-2&state=${encodeURIComponent(state)}`, { cookies: { gatehouse_oauth_state: 'garbage!' } }),
      req(`${APPTEST}/api/auth/callback/github?code=good-2`, { cookies: { gatehouse_oauth_state: cookie } }),
    ];
    for (const r of cases) {
      const res = await g.oauthCallback(r);
      expect(res.status).toBe(303);
      expect(new URL(res.headers.get('location')!, APPTEST).searchParams.get('error')).toBe('oauth_state');
      expect(setCookies(res).some((c) => c.name === 'gatehouse_access_token')).toBe(false);
    }
  });

  it('reports a denied consent and a bad code', async () => {
    const g = gh();
    const { state, cookie } = await start(g);
    const denied = await g.oauthCallback(req(`${APPTEST}/api/auth/callback/github?error=access_denied&state=${state}`, { cookies: { gatehouse_oauth_state: cookie } }));
    expect(new URL(denied.headers.get('location')!, APPTEST).searchParams.get('error')).toBe('oauth_denied');
    const bad = await g.oauthCallback(req(`${APPTEST}/api/auth/callback/github?code=bad&state=${encodeURIComponent(state)}`, { cookies: { gatehouse_oauth_state: cookie } }));
    const loc = new URL(bad.headers.get('location')!, APPTEST);
    expect(loc.searchParams.get('error')).toBe('oauth_failed');
    expect(loc.searchParams.get('callbackUrl')).toBe('/dashboard');
  });

  it('answers a malformed percent-escape in the path or query with a 4xx, never a 500', async () => {
    const g = gh();
    for (const u of [AUTH + '/oauth/%E0%A4%A', AUTH + '/oauth/%zz', AUTH + '/callback/%E0%A4%A?code=x&state=y', AUTH + '/%E0%A4%A']) {
      const res = await g.handlers.GET(req(u));
      expect(res.status, u).toBeGreaterThanOrEqual(400);
      expect(res.status, u).toBeLessThan(500);
    }
    for (const u of [AUTH + '/oauth/github?callbackUrl=%E0%A4%A', AUTH + '/callback/github?code=%E0%A4%A&state=%zz']) {
      const res = await g.handlers.GET(req(u));
      expect(res.status, u).toBeLessThan(500);
    }
    const post = await g.handlers.POST(req(AUTH + '/login', form({ email: 'a@example.com', password: 'x' }, {})));
    expect(post.status).toBeLessThan(500);
    const bad = await g.handlers.POST(
      req(AUTH + '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=%E0%A4%A&password=%zz&callbackUrl=%' }),
    );
    expect(bad.status).toBeLessThan(500);
  });

  it('drops an unsafe callbackUrl and rejects unknown providers', async () => {
    const g = gh();
    const { state, cookie } = await start(g, '//evil.com');
    const res = await g.oauthCallback(req(`${APPTEST}/api/auth/callback/github?code=good-3&state=${encodeURIComponent(state)}`, { cookies: { gatehouse_oauth_state: cookie } }));
    expect(res.headers.get('location')).toBe('/');
    const unknown = await g.handlers.GET(req(`${APPTEST}/api/auth/oauth/myspace`));
    expect(unknown.status).toBe(303);
    expect(new URL(unknown.headers.get('location')!, APPTEST).searchParams.get('error')).toBe('oauth_failed');
    expect((await g.handlers.GET(req(`${APPTEST}/api/auth/oauth/..%2Fx`))).status).toBe(404);
  });
});

describe('createGatehouse(config): one configuration for the middleware, the helpers and the handlers', () => {
  it('middleware, requireUser() and the handlers agree on loginPath and cookie names', async () => {
    const g = createGatehouse({
      apiKey: main.appKey,
      authUrl: main.url,
      protectedPaths: ['/dashboard'],
      loginPath: '/signin',
      cookies: { access: 'app_at', refresh: 'app_rt' },
    });
    expect(g.proxy).toBe(g.middleware);
    // Anonymous: both send the visitor to the same login page.
    const mres = await g.middleware(req(APP + '/dashboard?x=1'));
    expect(mres.status).toBe(307);
    expect(new URL(mres.headers.get('location')!).pathname).toBe('/signin');
    const digest = await g.requireUser({ request: req(APP + '/dashboard', { headers: { 'x-gatehouse-path': '/dashboard?x=1' } }) }).then(
      () => 'no redirect',
      (e: { digest?: string }) => e.digest ?? String(e),
    );
    expect(digest).toMatch(/^NEXT_REDIRECT;replace;\/signin\?callbackUrl=%2Fdashboard%3Fx%3D1;307;/);
    const bad = await g.handlers.POST(req(AUTH + '/login', form({ email: 'nobody@example.com', password: 'wrong password!' })));
    expect(bad.headers.get('location')).toMatch(/^\/signin\?error=/);
    // Signed in by the handler: the cookies it sets are the ones the middleware and auth() read.
    const email = uniqueEmail();
    await register(main.url, email);
    const res = await g.handlers.POST(req(AUTH + '/login', json({ email, password: PASSWORD })));
    expect(res.status).toBe(200);
    const access = cookieValue(res, 'app_at');
    expect(access).toBeDefined();
    expect(cookieValue(res, 'app_rt')).toBeDefined();
    const through = await g.middleware(req(APP + '/dashboard', { cookies: { app_at: access } }));
    expect(passed(through)).toBe(true);
    expect(decodeURIComponent(forwarded(through).get('x-gatehouse-user-email')!)).toBe(email);
    expect((await g.auth({ request: req(APP + '/dashboard', { cookies: { app_at: access } }) }))?.user.email).toBe(email);
    // The app key given once serves the middleware's and withAuth()'s introspection alike.
    const api = await createGatehouse({ apiKey: main.appKey, authUrl: main.url, protectedPaths: ['/api/protected'] }).middleware(
      req(APP + '/api/protected', { headers: { 'x-api-key': main.machineKey } }),
    );
    expect(passed(api)).toBe(true);
  });
});

// ---- review2 (hostile review of issue 15): each test here failed when written ----
describe('review2: roles and cross-site checks', () => {
  it("review2: requireUser({ role }) and has({ role }) are not satisfied by an API key whose owner has the role (the key's scopes do not grant it)", async () => {
    const g = gh();
    // main.weakKey belongs to app-admin@example.com (role admin) but only has scope profile:read;
    // Gatehouse itself does not treat it as an admin (requireScope(admin) needs the admin scope).
    const r = () => req(APP + '/admin', { headers: { 'x-api-key': main.weakKey, 'x-gatehouse-path': '/admin' } });
    const k = await g.auth({ request: r() });
    expect(k?.kind).toBe('api_key');
    expect.soft(has(k, { role: 'admin' }), 'has() grants the admin role to a profile:read key').toBe(false);
    const outcome = await g.requireUser({ request: r(), role: 'admin' }).then(
      (s) => `admitted as ${s.kind} with role ${s.user.role}`,
      (e: { digest?: string }) => e.digest ?? String(e),
    );
    expect(outcome).toMatch(/^NEXT_REDIRECT;/);
  });

  it('review2: an app configured without an app key (cookie sessions only) does not answer an anonymous caller\'s made-up API key with a 500', async () => {
    const saved = process.env.GATEHOUSE_API_KEY;
    delete process.env.GATEHOUSE_API_KEY;
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // createGatehouse() makes apiKey optional: an app that only uses cookie sessions leaves it out.
      const g = createGatehouse({ authUrl: main.url });
      const h = g.withAuth(async () => new Response('ok'));
      // Anyone can add this header: it must not turn the request into a server error (5xx alerts,
      // one error log line per request, "the app's Gatehouse API key is missing" told to the caller).
      const res = await h(req(APP + '/api/thing', { headers: { 'x-api-key': 'ak_made_up' } }));
      expect.soft(res.status).toBe(401);
      const s = await g.auth({ request: req(APP + '/x', { headers: { 'x-api-key': 'ak_made_up' } }) }).then(
        (v) => v,
        (e: Error) => `threw ${e.name}`,
      );
      expect.soft(s).toBeNull();
    } finally {
      errors.mockRestore();
      if (saved !== undefined) process.env.GATEHOUSE_API_KEY = saved;
    }
  });

  it('review2: the POST handlers refuse an http:// Origin on the same host when the app is served over https (login CSRF)', async () => {
    const g = gh();
    const email = uniqueEmail('csrf');
    await register(main.url, email);
    const res = await g.login(
      req('https://app.example.com/api/auth/login', form({ email, password: PASSWORD }, { origin: 'http://app.example.com', host: 'app.example.com' })),
    );
    expect(res.status).toBe(403);
    expect(setCookies(res)).toEqual([]);
  });
});

// The middleware callback of createGatehouse(): `gatehouse.middleware((auth, req) => …)` with
// createRouteMatcher() and auth.protect({ role, scope }), against the real Gatehouse server.
import { describe, expect, expectTypeOf, it, inject, beforeAll, vi } from 'vitest';
import { NextResponse } from 'next/server';
import { createGatehouse, createRouteMatcher, type GatehouseConfig } from '../src/server.js';
import type { TokenResponse } from '../src/client.js';
import { DEAD_URL, cookiesOf, forwarded, login, passed, register, req, setCookies } from './helpers.js';

const main = inject('main');
const APP = 'http://localhost:3000';

const isProtected = createRouteMatcher(['/dashboard(.*)', '/api/private']);
const isAdmin = createRouteMatcher('/admin');
const isReports = createRouteMatcher(/^\/reports\/\d+$/);

function gh(extra: Partial<GatehouseConfig> = {}) {
  return createGatehouse({ apiKey: main.appKey, authUrl: main.url, loginPath: '/login', ...extra });
}

/** The callback most apps write. */
const standard = gh().middleware((auth, request) => {
  if (isAdmin(request)) auth.protect({ role: 'admin' });
  else if (isReports(request)) auth.protect({ scope: 'credits:read' });
  else if (isProtected(request)) auth.protect();
});

let alice: TokenResponse;
let admin: TokenResponse;

beforeAll(async () => {
  [alice, admin] = await Promise.all([register(main.url), login(main.url, 'app-admin@example.com')]);
});

function expectLogin(res: Response, callbackUrl: string, error?: string) {
  expect(res.status).toBe(307);
  const loc = new URL(res.headers.get('location')!);
  expect(loc.origin).toBe(APP);
  expect(loc.pathname).toBe('/login');
  expect(loc.searchParams.get('callbackUrl')).toBe(callbackUrl);
  expect(loc.searchParams.get('error')).toBe(error ?? null);
  expect(passed(res)).toBe(false);
}

describe('createRouteMatcher()', () => {
  const m = (patterns: Parameters<typeof createRouteMatcher>[0], path: string) => createRouteMatcher(patterns)(req(APP + path));

  it('matches paths on segment boundaries, every way the middleware reads a path', () => {
    for (const p of ['/dashboard', '/dashboard/', '/dashboard/x', '//dashboard', '/Dashboard', '/%64ashboard', '/x/..%2Fdashboard', '/dashboard;x']) {
      expect(m('/dashboard', p), p).toBe(true);
    }
    for (const p of ['/', '/dashboardx', '/dash', '/api/dashboard']) expect(m('/dashboard', p), p).toBe(false);
    expect(m('/', '/anything')).toBe(true);
  });

  it('understands a trailing (.*), :param segments and RegExps', () => {
    expect(m('/admin(.*)', '/admin')).toBe(true);
    expect(m('/admin(.*)', '/admin/users/1')).toBe(true);
    expect(m('/admin(.*)', '/administrator')).toBe(true); // like path-to-regexp: more, never less
    expect(m('/admin(.*)', '/x/admin')).toBe(false);
    expect(m('/org/:id/settings', '/org/42/settings')).toBe(true);
    expect(m('/org/:id/settings', '/ORG/42/settings/')).toBe(true);
    expect(m('/org/:id/settings', '/org/42/other')).toBe(false);
    expect(m('/org/:id/settings', '/org/settings')).toBe(false);
    expect(m('/a.b', '/axb')).toBe(false); // literal characters are literal
    expect(m(/^\/reports\/\d+$/, '/reports/7')).toBe(true);
    expect(m(/^\/reports\/\d+$/g, '/reports/7')).toBe(true); // a global RegExp keeps no state
    expect(m(/^\/reports\/\d+$/g, '/reports/7')).toBe(true);
    expect(m(['/nope', /^\/reports\//], '/reports/x')).toBe(true);
  });

  it('refuses patterns it cannot read', () => {
    expect(() => createRouteMatcher('dashboard')).toThrow(/must start with "\/"/);
    expect(() => createRouteMatcher('/a(b)')).toThrow(/only "\(\.\*\)"/);
  });
});

describe('gatehouse.middleware(callback) with auth.protect()', () => {
  it('sends anonymous page visitors to the login page and answers anonymous API calls 401', async () => {
    expectLogin(await standard(req(APP + '/dashboard/settings?tab=1')), '/dashboard/settings?tab=1');
    expectLogin(await standard(req(APP + '//Dashboard')), '/Dashboard');
    const api = await standard(req(APP + '/api/private'));
    expect(api.status).toBe(401);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    expect(api.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const post = await standard(req(APP + '/dashboard', { method: 'POST' }));
    expect(post.status).toBe(401);
    // A Server Action gets what Next answers when an action calls redirect().
    const action = await standard(req(APP + '/dashboard', { method: 'POST', headers: { 'next-action': 'abc' } }));
    expect(action.status).toBe(200);
    expect(action.headers.get('x-action-redirect')).toBe('/login?callbackUrl=%2Fdashboard;replace');
  });

  it('lets a valid session through with the verified identity; open paths stay open', async () => {
    const res = await standard(req(APP + '/dashboard', { cookies: cookiesOf(alice) }));
    expect(passed(res)).toBe(true);
    expect(forwarded(res).get('x-gatehouse-user-id')).toBe(alice.user.id);
    const open = await standard(req(APP + '/about'));
    expect(passed(open)).toBe(true);
    expect(forwarded(open).get('x-gatehouse-user-id')).toBeNull();
  });

  it('protect({ role }): a user without the role is sent to sign in as someone else (403 on API routes); an admin passes', async () => {
    expectLogin(await standard(req(APP + '/admin/users', { cookies: cookiesOf(alice) })), '/admin/users', 'forbidden');
    const strictApi = gh().middleware((auth) => void auth.protect({ role: ['admin', 'owner'] }));
    const api = await strictApi(req(APP + '/api/things', { cookies: cookiesOf(alice) }));
    expect(api.status).toBe(403);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    const ok = await standard(req(APP + '/admin/users', { cookies: cookiesOf(admin) }));
    expect(passed(ok)).toBe(true);
    expect(forwarded(ok).get('x-gatehouse-user-role')).toBe('admin');
    // An API key never acts with its owner's role (the app key's owner is an admin).
    const key = await strictApi(req(APP + '/api/things', { headers: { 'x-api-key': main.weakKey } }));
    expect(key.status).toBe(403);
  });

  it('protect({ scope }) checks API keys on API routes; protect() accepts them there', async () => {
    const g = gh().middleware((auth, request) => {
      if (request.nextUrl.pathname === '/api/credits') auth.protect({ scope: 'credits:read' });
      else auth.protect();
    });
    expect(passed(await g(req(APP + '/api/credits', { headers: { 'x-api-key': main.machineKeyCredits } })))).toBe(true);
    const lacking = await g(req(APP + '/api/credits', { headers: { 'x-api-key': main.machineKey } }));
    expect(lacking.status).toBe(403);
    const plain = await g(req(APP + '/api/other', { headers: { 'x-api-key': main.machineKey } }));
    expect(passed(plain)).toBe(true);
    expect(forwarded(plain).get('x-gatehouse-auth')).toBe('api_key');
    // Keys only count on API routes: a page refuses them like no credentials.
    expectLogin(await g(req(APP + '/page', { headers: { 'x-api-key': main.machineKey } })), '/page');
  });

  it('auth() answers the session (no token in it) or null, and protect() answers it too', async () => {
    const seen: unknown[] = [];
    const g = gh().middleware((auth) => {
      seen.push(auth());
      if (auth()) seen.push(auth.protect().user.email);
    });
    await g(req(APP + '/x', { cookies: cookiesOf(alice) }));
    await g(req(APP + '/x'));
    expect(seen[0]).toMatchObject({ kind: 'session', user: { id: alice.user.id, email: alice.user.email } });
    expect(JSON.stringify(seen[0])).not.toContain(alice.access_token);
    expect(seen[1]).toBe(alice.user.email);
    expect(seen[2]).toBeNull();
  });

  it('a refusal stands even when the callback catches it or answers with a response of its own', async () => {
    const sneaky = gh().middleware(async (auth) => {
      try {
        auth.protect();
      } catch {
        /* swallowed */
      }
      return NextResponse.next();
    });
    expectLogin(await sneaky(req(APP + '/dashboard')), '/dashboard');
    // protect() called without await or return: the refusal still wins.
    const careless = gh().middleware((auth, request) => {
      if (isProtected(request)) {
        void Promise.resolve().then(() => 0);
        auth.protect();
      }
    });
    expectLogin(await careless(req(APP + '/dashboard')), '/dashboard');
  });

  it("runs after the configuration's protectedPaths, and never on the login page or the SDK's endpoints", async () => {
    const calls: string[] = [];
    const g = gh({ protectedPaths: ['/settings'], publicPaths: ['/docs'] }).middleware((auth, request) => {
      calls.push(request.nextUrl.pathname);
      auth.protect();
    });
    expectLogin(await g(req(APP + '/settings')), '/settings');
    for (const p of ['/login', '/api/auth/login', '/api/auth/oauth/github', '/docs/intro']) {
      expect(passed(await g(req(APP + p))), p).toBe(true);
    }
    expect(calls).toEqual([]);
  });

  it("keeps the callback's own response, with the identity headers (client-sent ones removed) and renewed cookies", async () => {
    const fresh = await register(main.url);
    const g = gh().middleware((auth, request) => {
      auth.protect();
      const headers = new Headers(request.headers);
      headers.set('x-app', 'yes');
      const res = NextResponse.next({ request: { headers } });
      res.headers.set('x-answer', '42');
      return res;
    });
    // Only a refresh cookie: the middleware renews the session on the way.
    const res = await g(
      req(APP + '/dashboard', { cookies: { gatehouse_refresh_token: fresh.refresh_token }, headers: { 'x-gatehouse-user-id': 'forged' } }),
    );
    expect(passed(res)).toBe(true);
    expect(res.headers.get('x-answer')).toBe('42');
    const f = forwarded(res);
    expect(f.get('x-app')).toBe('yes');
    expect(f.get('x-gatehouse-user-id')).toBe(fresh.user.id);
    const renewed = setCookies(res).find((c) => c.name === 'gatehouse_access_token')!.value;
    expect(renewed).toBeTruthy();
    expect(f.get('cookie')).toContain(`gatehouse_access_token=${renewed}`);
    expect(setCookies(res).find((c) => c.name === 'gatehouse_refresh_token')!.value).not.toBe(fresh.refresh_token);

    // NextResponse.next() without request headers: the middleware's own forwarded headers.
    const plainNext = gh().middleware(() => NextResponse.next());
    const p = await plainNext(req(APP + '/x', { cookies: cookiesOf(alice), headers: { 'x-gatehouse-auth': 'api_key' } }));
    expect(forwarded(p).get('x-gatehouse-auth')).toBe('session');
    expect(forwarded(p).get('x-gatehouse-user-id')).toBe(alice.user.id);

    // A redirect of its own goes out as it is.
    const redirecting = gh().middleware((_auth, request) => NextResponse.redirect(new URL('/elsewhere', request.url)));
    const r = await redirecting(req(APP + '/x'));
    expect(r.status).toBe(307);
    expect(r.headers.get('location')).toBe(APP + '/elsewhere');
  });

  it('Gatehouse down: protect() answers 503 (no redirect, no cookie change); without protect() the request goes on', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const down = createGatehouse({ apiKey: main.appKey, authUrl: DEAD_URL, timeoutMs: 500 });
      const guarded = down.middleware((auth) => void auth.protect());
      const res = await guarded(req(APP + '/dashboard', { cookies: cookiesOf(alice) }));
      expect(res.status).toBe(503);
      expect(setCookies(res)).toEqual([]);
      const lenient = down.middleware(() => undefined);
      expect(passed(await lenient(req(APP + '/dashboard', { cookies: cookiesOf(alice) })))).toBe(true);
    } finally {
      errors.mockRestore();
    }
  });

  it('no Gatehouse URL: protect() answers 500 auth_misconfigured, and auth() null', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const saved = process.env.GATEHOUSE_URL;
    delete process.env.GATEHOUSE_URL;
    try {
      let seen: unknown = 'not called';
      const g = createGatehouse({ apiKey: main.appKey }).middleware((auth) => {
        seen = auth();
        auth.protect();
      });
      const res = await g(req(APP + '/dashboard'));
      expect(res.status).toBe(500);
      expect((await res.json()).error_code).toBe('auth_misconfigured');
      expect(seen).toBeNull();
    } finally {
      if (saved !== undefined) process.env.GATEHOUSE_URL = saved;
      errors.mockRestore();
    }
  });

  it('is the plain middleware when Next.js calls it with a request', async () => {
    const g = gh({ protectedPaths: ['/dashboard'] });
    expectLogin(await g.middleware(req(APP + '/dashboard')), '/dashboard');
    expect(passed(await g.proxy(req(APP + '/dashboard', { cookies: cookiesOf(alice) })))).toBe(true);
  });

  it('uses the same login page and cookie names as the server helpers', async () => {
    const g = createGatehouse({ apiKey: main.appKey, authUrl: main.url, loginPath: '/signin', cookies: { access: 'app_at', refresh: 'app_rt' } });
    const m = g.middleware((auth) => void auth.protect());
    const res = await m(req(APP + '/x'));
    expect(new URL(res.headers.get('location')!).pathname).toBe('/signin');
    const t = await login(main.url, alice.user.email);
    expect(passed(await m(req(APP + '/x', { cookies: { app_at: t.access_token } })))).toBe(true);
  });
});

describe('typed custom claims', () => {
  type Claims = { plan?: 'free' | 'pro'; org_id?: string };

  it('createGatehouse<Claims>() types the claims of every helper and of the callback (checked by tsc)', async () => {
    const g = createGatehouse<Claims>({ apiKey: main.appKey, authUrl: main.url });
    const s = await g.auth({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) });
    expectTypeOf(s!.claims!.plan).toEqualTypeOf<'free' | 'pro' | undefined>();
    expectTypeOf(s!.claims!.sub).toEqualTypeOf<string>();
    expect(s!.claims!.sub).toBe(alice.user.id);
    expect(s!.claims!.plan).toBeUndefined(); // a compile-time description: Gatehouse issued no such claim
    let seen: string | undefined = 'unset';
    await g.middleware((auth) => {
      expectTypeOf(auth.protect().claims!.org_id).toEqualTypeOf<string | undefined>();
      seen = auth()?.claims?.org_id;
    })(req(APP + '/x', { cookies: cookiesOf(alice) }));
    expect(seen).toBeUndefined();
    g.withAuth(async (_r, session) => {
      expectTypeOf(session.claims!.plan).toEqualTypeOf<'free' | 'pro' | undefined>();
      return Response.json({});
    });
    // Without a type argument, an extra claim is only `unknown` (JWTPayload's index signature).
    const plain = await gh().auth({ request: req(APP + '/x', { cookies: cookiesOf(alice) }) });
    expectTypeOf(plain!.claims!.plan).toEqualTypeOf<unknown>();
  });
});

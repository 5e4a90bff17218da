// The middleware against real Gatehouse servers: every row of the behaviour table of issue 8.
import { describe, expect, it, inject, beforeAll, vi } from 'vitest';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { createMiddleware, type MiddlewareOptions } from '../src/middleware.js';
import type { TokenResponse } from '../src/client.js';
import {
  DEAD_URL,
  cookiesOf,
  countingFetch,
  forwarded,
  introspect,
  login,
  passed,
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

function mw(extra: Partial<MiddlewareOptions> = {}, server = main) {
  return createMiddleware({
    apiKey: server.appKey,
    authUrl: server.url,
    protectedPaths: ['/dashboard', '/api/protected'],
    loginPath: '/login',
    ...extra,
  });
}

async function expectLoginRedirect(res: Response, callbackUrl: string) {
  expect(res.status).toBe(307);
  const loc = new URL(res.headers.get('location')!);
  expect(loc.origin).toBe(APP);
  expect(loc.pathname).toBe('/login');
  expect(loc.searchParams.get('callbackUrl')).toBe(callbackUrl);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(passed(res)).toBe(false);
}

async function expect401(res: Response, tokenPresented = false) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  if (tokenPresented) expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  const body = await res.json();
  expect(body).toMatchObject({ status: 401, error_code: 'unauthorized' });
  expect(typeof body.detail).toBe('string');
  expect(passed(res)).toBe(false);
}

function expectNoCookieDeletion(res: Response) {
  for (const c of setCookies(res)) {
    expect(c.value, `cookie ${c.name} emptied`).not.toBe('');
    expect(c.attrs['max-age'], `cookie ${c.name} expired`).not.toBe('0');
    expect(c.attrs['expires'] === undefined || new Date(c.attrs['expires'] as string) > new Date()).toBe(true);
  }
}

let alice: TokenResponse;
let bob: TokenResponse;

beforeAll(async () => {
  [alice, bob] = await Promise.all([register(main.url), register(main.url)]);
});

describe('routing', () => {
  it('passes public paths through untouched, without looking at credentials', async () => {
    const m = mw({ publicPaths: ['/about'] });
    for (const p of ['/login', '/login/help', '/about', '/about/team']) {
      const res = await m(req(APP + p, { cookies: { gatehouse_access_token: 'garbage' } }));
      expect(passed(res), p).toBe(true);
      expect(forwarded(res).get('x-gatehouse-user-id')).toBeNull();
      expect(setCookies(res)).toEqual([]);
    }
  });

  it('passes open (unlisted) paths through, with the identity when there is a session', async () => {
    const m = mw();
    const anon = await m(req(APP + '/'));
    expect(passed(anon)).toBe(true);
    expect(forwarded(anon).get('x-gatehouse-user-id')).toBeNull();
    const signedIn = await m(req(APP + '/', { cookies: cookiesOf(alice) }));
    expect(passed(signedIn)).toBe(true);
    expect(forwarded(signedIn).get('x-gatehouse-user-id')).toBe(alice.user.id);
    const garbage = await m(req(APP + '/blog', { cookies: { gatehouse_access_token: 'garbage' } }));
    expect(passed(garbage)).toBe(true);
  });

  it('redirects a protected page without a session to loginPath with callbackUrl (path and query), 307, no-store', async () => {
    const m = mw();
    await expectLoginRedirect(await m(req(APP + '/dashboard')), '/dashboard');
    await expectLoginRedirect(await m(req(APP + '/dashboard/settings?tab=keys&x=1')), '/dashboard/settings?tab=keys&x=1');
    await expectLoginRedirect(await m(req(APP + '/dashboard', { method: 'HEAD' })), '/dashboard');
  });

  it('answers 401 to a non-GET request to a protected page without a session', async () => {
    const m = mw();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      await expect401(await m(req(APP + '/dashboard', { method, body: method === 'OPTIONS' ? undefined : 'x=1' })));
    }
  });

  it('answers 401 problem+json with WWW-Authenticate to a protected API route without a session', async () => {
    const m = mw();
    await expect401(await m(req(APP + '/api/protected')));
    await expect401(await m(req(APP + '/api/protected/items/1', { method: 'POST', body: '{}' })));
  });

  it('matches on segment boundaries', async () => {
    const m = mw();
    expect(passed(await m(req(APP + '/dashboardx')))).toBe(true);
    expect(passed(await m(req(APP + '/dashboard-old')))).toBe(true);
    expect(passed(await m(req(APP + '/api/protectedx')))).toBe(true);
    expect(passed(await m(req(APP + '/my/dashboard')))).toBe(true);
    await expectLoginRedirect(await m(req(APP + '/dashboard/x/y')), '/dashboard/x/y');
  });

  it.each([
    ['//dashboard', '/dashboard'],
    ['/dashboard/', '/dashboard/'],
    ['/Dashboard', '/Dashboard'],
    ['/DASHBOARD/settings', '/DASHBOARD/settings'],
    ['/%2Fdashboard', '/%2Fdashboard'],
    ['/%2fdashboard', '/%2fdashboard'],
    ['/dashboard%2F..', '/dashboard%2F..'],
    ['/dashboard%2f..%2f', '/dashboard%2f..%2f'],
    ['/%64ashboard', '/%64ashboard'],
    ['/%252Fdashboard', '/%252Fdashboard'],
    ['/x/..%2Fdashboard', '/x/..%2Fdashboard'],
    ['/dashboard;jsessionid=1', '/dashboard;jsessionid=1'],
    ['/login/..%2Fdashboard', '/login/..%2Fdashboard'],
    ['/%5Cdashboard', '/%5Cdashboard'],
    ['///dashboard//x', '/dashboard/x'],
  ])('does not let %s bypass protection', async (path, callback) => {
    const res = await mw()(req(APP + path));
    await expectLoginRedirect(res, callback);
  });

  it.each(['//api/protected', '/API/Protected', '/api/protected/', '/api%2Fprotected', '/api/%70rotected', '/api/x/..%2Fprotected'])(
    'does not let %s bypass API protection',
    async (path) => {
      const res = await mw()(req(APP + path));
      expect(passed(res)).toBe(false);
      expect([307, 401]).toContain(res.status);
    },
  );

  it('ignores x-middleware-subrequest (CVE-2025-29927 style bypass)', async () => {
    const m = mw();
    for (const v of ['middleware', 'middleware:middleware:middleware:middleware:middleware', 'src/middleware:src/middleware:src/middleware:src/middleware:src/middleware', 'proxy:proxy:proxy:proxy:proxy']) {
      await expectLoginRedirect(await m(req(APP + '/dashboard', { headers: { 'x-middleware-subrequest': v } })), '/dashboard');
      await expect401(await m(req(APP + '/api/protected', { headers: { 'x-middleware-subrequest': v } })));
      const through = await m(req(APP + '/', { headers: { 'x-middleware-subrequest': v } }));
      expect(forwarded(through).get('x-middleware-subrequest')).toBeNull();
    }
  });

  it('never lets the login page itself be protected (no redirect loop)', async () => {
    const m = mw({ protectedPaths: ['/'] });
    expect(passed(await m(req(APP + '/login')))).toBe(true);
    await expectLoginRedirect(await m(req(APP + '/')), '/');
  });

  it("with protectedPaths ['/'], the SDK's auth routes and the login page stay open (people can sign in)", async () => {
    const m = mw({ protectedPaths: ['/'] });
    for (const p of ['/login', '/api/auth/login', '/api/auth/session', '/api/auth/oauth/github', '/api/auth/callback/github']) {
      expect(passed(await m(req(APP + p))), p).toBe(true);
      expect(passed(await m(req(APP + p, { method: 'POST', body: 'a=1' }))), p).toBe(true);
    }
    await expectLoginRedirect(await m(req(APP + '/')), '/');
    await expectLoginRedirect(await m(req(APP + '/dashboard')), '/dashboard');
    await expect401(await m(req(APP + '/api/other')));
    // authPath moves with the handlers.
    const moved = mw({ protectedPaths: ['/'], authPath: '/auth' });
    expect(passed(await moved(req(APP + '/auth/login', { method: 'POST', body: 'a=1' })))).toBe(true);
    await expect401(await moved(req(APP + '/api/auth/login', { method: 'POST', body: 'a=1' })));
  });

  it('keeps the query of a loginPath and adds callbackUrl to it', async () => {
    const res = await mw({ loginPath: '/login?x=1' })(req(APP + '/dashboard?a=b'));
    expect(res.status).toBe(307);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.pathname).toBe('/login');
    expect(loc.searchParams.get('x')).toBe('1');
    expect(loc.searchParams.get('callbackUrl')).toBe('/dashboard?a=b');
    expect(passed(await mw({ loginPath: '/login?x=1' })(req(APP + '/login?x=1')))).toBe(true);
  });

  it('public paths win only when every reading of the path is public', async () => {
    const m = mw({ protectedPaths: ['/api'], publicPaths: ['/api/auth'] });
    expect(passed(await m(req(APP + '/api/auth/login', { method: 'POST' })))).toBe(true);
    await expect401(await m(req(APP + '/api/auth/..%2Fusers')));
    await expect401(await m(req(APP + '/api/users')));
  });

  it('hands the requested path (still URL-encoded) to the app for requireUser()', async () => {
    const res = await mw()(req(APP + '/caf%C3%A9?q=%E2%9C%93&a=b%20c', { cookies: cookiesOf(alice) }));
    expect(forwarded(res).get('x-gatehouse-path')).toBe('/caf%C3%A9?q=%E2%9C%93&a=b%20c');
    await expectLoginRedirect(await mw()(req(APP + '/dashboard/caf%C3%A9?q=%E2%9C%93')), '/dashboard/caf%C3%A9?q=%E2%9C%93');
  });

  it('keeps a protocol-relative path out of callbackUrl', async () => {
    const res = await mw()(req(APP + '//dashboard//evil.com'));
    await expectLoginRedirect(res, '/dashboard/evil.com');
  });

  it('strips identity headers sent by the client, everywhere', async () => {
    const m = mw({ publicPaths: ['/about'] });
    const forged = { 'x-gatehouse-user-id': 'admin', 'x-gatehouse-auth': 'session', 'X-Gatehouse-User-Role': 'admin', 'x-gatehouse-path': '//evil.com' };
    for (const p of ['/about', '/', '/blog']) {
      const f = forwarded(await m(req(APP + p, { headers: forged })));
      expect(f.get('x-gatehouse-user-id'), p).toBeNull();
      expect(f.get('x-gatehouse-auth')).toBeNull();
      expect(f.get('x-gatehouse-user-role')).toBeNull();
      expect(f.get('x-gatehouse-path')).toBe(p);
    }
    const f = forwarded(await m(req(APP + '/dashboard', { headers: forged, cookies: cookiesOf(alice) })));
    expect(f.get('x-gatehouse-user-id')).toBe(alice.user.id);
    expect(f.get('x-gatehouse-user-role')).toBe('user');
    expect(f.get('x-gatehouse-path')).toBe('/dashboard');
    // Other headers are forwarded as they came.
    const g = forwarded(await m(req(APP + '/dashboard', { headers: { 'x-request-id': 'abc' }, cookies: cookiesOf(alice) })));
    expect(g.get('x-request-id')).toBe('abc');
  });
});

describe('sessions', () => {
  it('lets a valid session through with the verified identity, without touching cookies', async () => {
    const m = mw();
    for (const path of ['/dashboard', '/dashboard/a?b=c', '/api/protected']) {
      const res = await m(req(APP + path, { cookies: cookiesOf(alice) }));
      expect(passed(res), path).toBe(true);
      const f = forwarded(res);
      const claims = decodeJwt(alice.access_token);
      expect(f.get('x-gatehouse-auth')).toBe('session');
      expect(f.get('x-gatehouse-user-id')).toBe(alice.user.id);
      expect(decodeURIComponent(f.get('x-gatehouse-user-email')!)).toBe(alice.user.email);
      expect(f.get('x-gatehouse-user-role')).toBe('user');
      expect(f.get('x-gatehouse-session-id')).toBe(claims.sid);
      expect(setCookies(res)).toEqual([]);
    }
  });

  it('accepts Authorization: Bearer, which takes precedence over the cookie', async () => {
    const m = mw();
    const viaBearer = await m(req(APP + '/api/protected', { headers: { Authorization: `Bearer ${bob.access_token}` } }));
    expect(passed(viaBearer)).toBe(true);
    expect(forwarded(viaBearer).get('x-gatehouse-user-id')).toBe(bob.user.id);
    // Bearer of Bob + cookie of Alice: Bob.
    const both = await m(req(APP + '/api/protected', { headers: { Authorization: `Bearer ${bob.access_token}` }, cookies: cookiesOf(alice) }));
    expect(forwarded(both).get('x-gatehouse-user-id')).toBe(bob.user.id);
    // A bad Bearer is not rescued by a good cookie.
    await expect401(await m(req(APP + '/api/protected', { headers: { Authorization: 'Bearer nope.nope.nope' }, cookies: cookiesOf(alice) })), true);
    await expectLoginRedirect(await m(req(APP + '/dashboard', { headers: { Authorization: 'Bearer x' }, cookies: cookiesOf(alice) })), '/dashboard');
  });

  describe('forged tokens', () => {
    let forgeries: Record<string, string>;

    beforeAll(async () => {
      const real = alice.access_token;
      const [h, p, s] = real.split('.');
      const header = decodeProtectedHeader(real);
      const payload = decodeJwt(real);
      const jwks = (await (await fetch(`${main.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
      const attacker = await generateKeyPair('ES256', { extractable: true });
      const attackerJwk = await exportJWK(attacker.publicKey);
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const sign = (hdr: Record<string, unknown>, claims = payload) =>
        new SignJWT({ ...claims, sub: bob.user.id }).setProtectedHeader({ alg: 'ES256', ...hdr } as never).sign(attacker.privateKey);
      const far = Math.floor(Date.now() / 1000) + 3600;
      forgeries = {
        'alg none': new UnsecuredJWT({ ...payload, sub: bob.user.id }).encode(),
        'alg none with typ at+jwt': `${b64({ alg: 'none', typ: 'at+jwt', kid: header.kid })}.${b64({ ...payload, sub: bob.user.id })}.`,
        'HS256 keyed with the public JWK (alg confusion)': await new SignJWT({ ...payload, sub: bob.user.id })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid })
          .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0]))),
        'attacker key, same kid': await sign({ typ: 'at+jwt', kid: header.kid }),
        'attacker key with jku': await sign({ typ: 'at+jwt', kid: 'evil', jku: 'http://127.0.0.1:9/jwks.json' }),
        'attacker key embedded as jwk': await sign({ typ: 'at+jwt', jwk: attackerJwk }),
        'tampered payload, original signature': `${h}.${b64({ ...payload, sub: bob.user.id, role: 'admin' })}.${s}`,
        'tampered exp, original signature': `${h}.${b64({ ...payload, exp: far })}.${s}`,
        'signature stripped': `${h}.${p}.`,
        'signature of another token': `${h}.${p}.${bob.access_token.split('.')[2]}`,
        garbage: 'not-a-jwt',
        empty: '',
        'huge token': 'a'.repeat(10000) + '.b.c',
      };
    });

    it('refuses every forgery on pages (redirect) and API routes (401)', async () => {
      const m = mw();
      for (const [name, token] of Object.entries(forgeries)) {
        const page = await m(req(APP + '/dashboard', { cookies: { gatehouse_access_token: token } }));
        expect(page.status, name).toBe(307);
        const api = await m(req(APP + '/api/protected', { headers: { Authorization: `Bearer ${token}` } }));
        expect(api.status, name).toBe(401);
        expect(forwarded(api).get('x-gatehouse-user-id'), name).toBeNull();
      }
    });

    it('refuses a real token from another Gatehouse (unknown key)', async () => {
      const other = await register(short.url);
      const m = mw({ issuer: short.url, audience: short.url });
      await expect401(await m(req(APP + '/api/protected', { headers: { Authorization: `Bearer ${other.access_token}` } })), true);
    });

    it('pins issuer, audience and algorithm', async () => {
      const bearer = { Authorization: `Bearer ${alice.access_token}` };
      await expect401(await mw({ issuer: 'http://other.example' })(req(APP + '/api/protected', { headers: bearer })), true);
      await expect401(await mw({ audience: 'http://other.example' })(req(APP + '/api/protected', { headers: bearer })), true);
      await expect401(await mw({ algorithms: ['RS256'] })(req(APP + '/api/protected', { headers: bearer })), true);
      expect(passed(await mw({ algorithms: ['ES256', 'EdDSA'] })(req(APP + '/api/protected', { headers: bearer })))).toBe(true);
    });
  });

  it('treats an expired access token without a refresh cookie as no session', async () => {
    const t = await register(short.url);
    await waitUntilExpired(t.access_token);
    const m = mw({}, short);
    await expectLoginRedirect(await m(req(APP + '/dashboard', { cookies: { gatehouse_access_token: t.access_token } })), '/dashboard');
    await expect401(await m(req(APP + '/api/protected', { cookies: { gatehouse_access_token: t.access_token } })), true);
    await expect401(await m(req(APP + '/api/protected', { headers: { Authorization: `Bearer ${t.access_token}` } })), true);
  });

  it('uses __Host- cookies over HTTPS (URL scheme or X-Forwarded-Proto) and ignores the plain names there', async () => {
    const m = mw();
    const hostCookies = { '__Host-gatehouse_access_token': alice.access_token };
    expect(passed(await m(req('https://app.example/dashboard', { cookies: hostCookies })))).toBe(true);
    expect(passed(await m(req(APP + '/dashboard', { cookies: hostCookies, headers: { 'x-forwarded-proto': 'https' } })))).toBe(true);
    expect((await m(req('https://app.example/dashboard', { cookies: cookiesOf(alice) }))).status).toBe(307);
    // And over plain HTTP the __Host- name is not read.
    expect((await m(req(APP + '/dashboard', { cookies: hostCookies }))).status).toBe(307);
  });
});

describe('silent refresh', () => {
  // Sessions whose access token has expired (the refresh token is good for days): made together,
  // so that the tests wait for one expiry instead of one each.
  const pool: TokenResponse[] = [];
  beforeAll(async () => {
    // One after the other: Gatehouse bounds concurrent password hashing (503 server_busy beyond it).
    for (let i = 0; i < 12; i++) pool.push(await register(short.url));
    await Promise.all(pool.map((t) => waitUntilExpired(t.access_token)));
  });

  async function expiredSession(): Promise<TokenResponse> {
    const t = pool.pop();
    if (!t) throw new Error('the pool of expired sessions is empty: make it larger');
    await waitUntilExpired(t.access_token);
    return t;
  }

  function expectRenewed(res: Response, old: TokenResponse, secure = false) {
    const prefix = secure ? '__Host-' : '';
    const cookies = setCookies(res);
    const access = cookies.find((c) => c.name === prefix + 'gatehouse_access_token');
    const refresh = cookies.find((c) => c.name === prefix + 'gatehouse_refresh_token');
    expect(access, 'access cookie set').toBeDefined();
    expect(refresh, 'refresh cookie set').toBeDefined();
    expect(access!.value).not.toBe(old.access_token);
    expect(refresh!.value).not.toBe(old.refresh_token);
    for (const c of [access!, refresh!]) {
      expect(c.attrs['httponly']).toBe(true);
      expect(String(c.attrs['samesite']).toLowerCase()).toBe('lax');
      expect(c.attrs['path']).toBe('/');
      expect(c.attrs['secure'] === true).toBe(secure);
      expect(c.attrs['domain']).toBeUndefined();
    }
    // The page renders with the new tokens: the forwarded Cookie header carries them.
    const fwdCookie = forwarded(res).get('cookie')!;
    expect(fwdCookie).toContain(`${prefix}gatehouse_access_token=${access!.value}`);
    expect(fwdCookie).toContain(`${prefix}gatehouse_refresh_token=${refresh!.value}`);
    expect(fwdCookie).not.toContain(old.access_token);
    expect(forwarded(res).get('x-gatehouse-user-id')).toBe(old.user.id);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    return { access: access!.value, refresh: refresh!.value };
  }

  it('renews an expired access cookie on a GET and serves the page with both cookies renewed', async () => {
    const t = await expiredSession();
    const res = await mw({}, short)(req(APP + '/dashboard', { cookies: { ...cookiesOf(t), theme: 'dark' } }));
    expect(passed(res)).toBe(true);
    const fresh = expectRenewed(res, t);
    expect(forwarded(res).get('cookie')).toContain('theme=dark');
    // The old refresh token is spent and the new one works.
    expect(await refreshStatus(short.url, fresh.refresh)).toBe(200);
  });

  it('renews on a GET to a protected API route and an open page too', async () => {
    const t1 = await expiredSession();
    expectRenewed(await mw({}, short)(req(APP + '/api/protected', { cookies: cookiesOf(t1) })), t1);
    const t2 = await expiredSession();
    expectRenewed(await mw({}, short)(req(APP + '/', { cookies: cookiesOf(t2) })), t2);
  });

  it('renews when only the refresh cookie is left', async () => {
    const t = await register(short.url);
    const res = await mw({}, short)(req(APP + '/dashboard', { cookies: { gatehouse_refresh_token: t.refresh_token } }));
    expect(passed(res)).toBe(true);
    expectRenewed(res, t);
  });

  it('renews __Host- cookies over HTTPS, Secure', async () => {
    const t = await expiredSession();
    const res = await mw({}, short)(
      req('https://app.example/dashboard', { cookies: { '__Host-gatehouse_access_token': t.access_token, '__Host-gatehouse_refresh_token': t.refresh_token } }),
    );
    expect(passed(res)).toBe(true);
    expectRenewed(res, t, true);
  });

  it('does not refresh on a non-GET request: 401, and the refresh token stays unspent', async () => {
    const t = await expiredSession();
    const m = mw({}, short);
    await expect401(await m(req(APP + '/dashboard', { method: 'POST', cookies: cookiesOf(t), body: 'a=1' })), true);
    await expect401(await m(req(APP + '/api/protected', { method: 'DELETE', cookies: cookiesOf(t) })), true);
    expect(await refreshStatus(short.url, t.refresh_token)).toBe(200);
  });

  it('renews on a same-origin POST and on a Server Action (Next-Action), like a GET', async () => {
    const m = mw({}, short);
    const t1 = await expiredSession();
    const post = await m(req(APP + '/dashboard', { method: 'POST', headers: { origin: APP }, cookies: cookiesOf(t1), body: 'a=1' }));
    expect(passed(post)).toBe(true);
    expectRenewed(post, t1);
    const t2 = await expiredSession();
    const action = await m(
      req(APP + '/dashboard', { method: 'POST', headers: { 'next-action': 'abc123', 'sec-fetch-site': 'same-origin' }, cookies: cookiesOf(t2), body: '[]' }),
    );
    expect(passed(action)).toBe(true);
    expectRenewed(action, t2);
    const t3 = await expiredSession();
    const api = await m(req(APP + '/api/protected', { method: 'DELETE', headers: { origin: APP }, cookies: cookiesOf(t3) }));
    expect(passed(api)).toBe(true);
    expectRenewed(api, t3);
  });

  it('never renews on a cross-site POST or Server Action: the refresh token stays unspent', async () => {
    const t = await expiredSession();
    const m = mw({}, short);
    for (const headers of <Record<string, string>[]>[{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }]) {
      const res = await m(req(APP + '/dashboard', { method: 'POST', headers: { ...headers, 'next-action': 'abc123' }, cookies: cookiesOf(t), body: '[]' }));
      expect(passed(res)).toBe(false);
      expect(setCookies(res)).toEqual([]);
      await expect401(await m(req(APP + '/api/protected', { method: 'POST', headers, cookies: cookiesOf(t) })), true);
    }
    expect(await refreshStatus(short.url, t.refresh_token)).toBe(200);
  });

  it('answers an unauthenticated Server Action with a redirect Next.js handles (x-action-redirect), not problem+json', async () => {
    const res = await mw({}, short)(
      req(APP + '/dashboard?tab=2', { method: 'POST', headers: { 'next-action': 'abc123', origin: APP, 'content-type': 'text/plain' }, body: '[]' }),
    );
    expect(passed(res)).toBe(false);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).not.toContain('json');
    expect(res.headers.get('x-action-redirect')).toBe('/login?callbackUrl=%2Fdashboard%3Ftab%3D2;replace');
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('redirects (and deletes no cookie) when the refresh token is bad', async () => {
    const t = await expiredSession();
    const res = await mw({}, short)(req(APP + '/dashboard', { cookies: { ...cookiesOf(t), gatehouse_refresh_token: 'forged-refresh-token' } }));
    await expectLoginRedirect(res, '/dashboard');
    expect(setCookies(res)).toEqual([]);
    const api = await mw({}, short)(req(APP + '/api/protected', { cookies: { gatehouse_refresh_token: 'forged' } }));
    await expect401(api, true);
    expect(setCookies(api)).toEqual([]);
  });

  it('ten parallel requests with one expired access cookie: all 200, one rotation, no cookie deletions', async () => {
    const t = await expiredSession();
    const counting = countingFetch();
    const m = mw({ fetch: counting.fetch }, short);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => m(req(APP + (i % 2 ? '/dashboard' : '/api/protected'), { cookies: cookiesOf(t) }))),
    );
    expect(counting.count('/api/v1/auth/refresh')).toBe(1);
    const accessValues = new Set<string>();
    const refreshValues = new Set<string>();
    for (const res of results) {
      expect(passed(res)).toBe(true);
      expectNoCookieDeletion(res);
      const { access, refresh } = expectRenewed(res, t);
      accessValues.add(access);
      refreshValues.add(refresh);
    }
    expect(accessValues.size).toBe(1);
    expect(refreshValues.size).toBe(1);
    // A straggler that still carries the spent token moments later gets the same successor.
    const late = await m(req(APP + '/dashboard', { cookies: cookiesOf(t) }));
    expect(expectRenewed(late, t).refresh).toBe([...refreshValues][0]);
    expect(counting.count('/api/v1/auth/refresh')).toBe(1);
  });

  it('answers 503 and keeps the cookies when Gatehouse cannot be reached for the refresh', async () => {
    const t = await expiredSession();
    const failing = countingFetch((u) => u.pathname === '/api/v1/auth/refresh');
    const m = mw({ fetch: failing.fetch }, short);
    const page = await m(req(APP + '/dashboard', { cookies: cookiesOf(t) }));
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBe('5');
    expect(await page.json()).toMatchObject({ status: 503, error_code: 'auth_unavailable' });
    expect(setCookies(page)).toEqual([]);
    const api = await m(req(APP + '/api/protected', { cookies: cookiesOf(t) }));
    expect(api.status).toBe(503);
    expect(setCookies(api)).toEqual([]);
    // On an open page the request simply goes on anonymously.
    const open = await m(req(APP + '/', { cookies: cookiesOf(t) }));
    expect(passed(open)).toBe(true);
    expect(setCookies(open)).toEqual([]);
    // Nothing was spent: the session still renews once Gatehouse is back.
    expect(await refreshStatus(short.url, t.refresh_token)).toBe(200);
  });
});

describe('Gatehouse unreachable', () => {
  it('answers 503 (no redirect, no cookie change) when the JWKS cannot be fetched', async () => {
    const m = mw({ authUrl: DEAD_URL, issuer: main.url, audience: main.url });
    const page = await m(req(APP + '/dashboard', { cookies: cookiesOf(alice) }));
    expect(page.status).toBe(503);
    expect(setCookies(page)).toEqual([]);
    const api = await m(req(APP + '/api/protected', { headers: { Authorization: `Bearer ${alice.access_token}` } }));
    expect(api.status).toBe(503);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    // Public and open paths still work.
    expect(passed(await m(req(APP + '/', { cookies: cookiesOf(alice) })))).toBe(true);
    expect(passed(await m(req(APP + '/login')))).toBe(true);
  });

  it('answers 503 when the JWKS endpoint fails with an error status', async () => {
    const broken = countingFetch();
    const m = mw({
      fetch: async (input, init) => {
        const u = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
        if (u.pathname.endsWith('/jwks.json')) return new Response('oops', { status: 502 });
        return broken.fetch(input, init);
      },
    });
    expect((await m(req(APP + '/dashboard', { cookies: cookiesOf(alice) }))).status).toBe(503);
  });

  it('without a Gatehouse URL, protected paths answer 500 auth_misconfigured and open paths pass', async () => {
    const saved = process.env.GATEHOUSE_URL;
    delete process.env.GATEHOUSE_URL;
    try {
      const m = createMiddleware({ apiKey: 'ak_x', protectedPaths: ['/dashboard'] });
      const res = await m(req(APP + '/dashboard'));
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error_code: 'auth_misconfigured' });
      expect(passed(await m(req(APP + '/')))).toBe(true);
    } finally {
      if (saved !== undefined) process.env.GATEHOUSE_URL = saved;
    }
  });
});

describe('machine callers (X-API-Key)', () => {
  it('accepts a live key on a protected API route, checked through introspection', async () => {
    const counting = countingFetch();
    const m = mw({ fetch: counting.fetch });
    const res = await m(req(APP + '/api/protected', { headers: { 'X-API-Key': main.machineKey } }));
    expect(passed(res)).toBe(true);
    const f = forwarded(res);
    expect(f.get('x-gatehouse-auth')).toBe('api_key');
    expect(f.get('x-gatehouse-user-id')).toMatch(/.+/);
    expect(f.get('x-gatehouse-scope')).toBe('profile:read');
    expect(decodeURIComponent(f.get('x-gatehouse-user-email')!)).toBe('machine@example.com');
    expect(f.get('x-gatehouse-key-id')).toMatch(/.+/);
    // Briefly cached by a hash of the key: a second request costs no call.
    expect(passed(await m(req(APP + '/api/protected/x', { headers: { 'X-API-Key': main.machineKey } })))).toBe(true);
    expect(counting.count('/api/v1/auth/introspect')).toBe(1);
  });

  it('accepts the key as Authorization: Bearer ak_...', async () => {
    const res = await mw()(req(APP + '/api/protected', { headers: { Authorization: `Bearer ${main.machineKey}` } }));
    expect(passed(res)).toBe(true);
    expect(forwarded(res).get('x-gatehouse-auth')).toBe('api_key');
  });

  it('answers 401 to an unknown or malformed key, and 401 to an access token sent as a key', async () => {
    const m = mw();
    const checksumOk = main.machineKey.slice(0, 3) + 'A'.repeat(32) + main.machineKey.slice(35);
    for (const key of ['ak_' + 'x'.repeat(38), 'garbage', checksumOk, alice.access_token, '']) {
      await expect401(await m(req(APP + '/api/protected', { headers: { 'X-API-Key': key } })), true);
    }
  });

  it('answers 401 once a key is revoked', async () => {
    // A key made just for this test, revoked through the CLI.
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const bin = inject('bin');
    const env = { ...process.env, GATEHOUSE_DATA_DIR: main.dataDir };
    const created = (await run(bin, ['keys', 'create', '--email', 'machine@example.com', '--scope', 'profile:read'], { env })).stdout;
    const key = created.trim().split('\n').pop()!.trim();
    const id = /created key (\S+)/.exec(created)![1]!;
    const m = mw({ introspectionCacheSeconds: 0 });
    expect(passed(await m(req(APP + '/api/protected', { headers: { 'X-API-Key': key } })))).toBe(true);
    await run(bin, ['keys', 'revoke', id], { env });
    // Gatehouse's own caches may take GATEHOUSE_CACHE_TTL (1 s) to see another process's change.
    let status = 0;
    for (let i = 0; i < 30 && status !== 401; i++) {
      status = (await m(req(APP + '/api/protected', { headers: { 'X-API-Key': key } }))).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(401);
  });

  it('answers 403 when the key lacks a required scope', async () => {
    const m = mw({ apiKeyScopes: ['credits:read'] });
    const res = await m(req(APP + '/api/protected', { headers: { 'X-API-Key': main.machineKey } }));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(await res.json()).toMatchObject({ status: 403, error_code: 'insufficient_scope' });
    expect(passed(await m(req(APP + '/api/protected', { headers: { 'X-API-Key': main.machineKeyCredits } })))).toBe(true);
  });

  it('ignores X-API-Key on pages: machine keys are for API routes', async () => {
    await expectLoginRedirect(await mw()(req(APP + '/dashboard', { headers: { 'X-API-Key': main.machineKey } })), '/dashboard');
  });

  it('answers 500 auth_app_key_invalid (not a retryable 503) when the app key is refused, 401 when there is none, 503 when Gatehouse is down', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // No app key: this app accepts no API keys, and a presented one is simply not accepted.
      const saved = process.env.GATEHOUSE_API_KEY;
      delete process.env.GATEHOUSE_API_KEY;
      try {
        await expect401(await mw({ apiKey: '' })(req(APP + '/api/protected', { headers: { 'X-API-Key': main.machineKey } })));
      } finally {
        if (saved !== undefined) process.env.GATEHOUSE_API_KEY = saved;
      }
      expect(warnings.mock.calls.flat().join('\n')).toMatch(/no app API key/);
      for (const m of [mw({ apiKey: main.weakKey }), mw({ apiKey: 'ak_' + 'z'.repeat(38) })]) {
        const res = await m(req(APP + '/api/protected', { headers: { 'X-API-Key': main.machineKey } }));
        expect(res.status).toBe(500);
        expect(res.headers.get('retry-after')).toBeNull();
        expect(await res.json()).toMatchObject({ status: 500, error_code: 'auth_app_key_invalid' });
      }
      // The log says what to fix.
      expect(errors.mock.calls.flat().join('\n')).toMatch(/tokens:introspect as apiKey/);
      const down = mw({ fetch: countingFetch((u) => u.pathname.endsWith('/introspect')).fetch });
      const res = await down(req(APP + '/api/protected', { headers: { 'X-API-Key': main.machineKey } }));
      expect(res.status).toBe(503);
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });

  it('the app key really is what introspection uses', async () => {
    expect((await introspect(main.url, main.appKey, main.machineKey)).active).toBe(true);
  });
});

describe('sessions that end', () => {
  it('a signed-out session cannot be renewed by the middleware', async () => {
    const email = uniqueEmail();
    await register(short.url, email);
    const t = await login(short.url, email);
    const out = await fetch(`${short.url}/api/v1/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${t.access_token}` } });
    expect(out.status).toBe(200);
    await waitUntilExpired(t.access_token);
    const res = await mw({}, short)(req(APP + '/dashboard', { cookies: cookiesOf(t) }));
    await expectLoginRedirect(res, '/dashboard');
    expect(setCookies(res)).toEqual([]);
  });
});

// ---- review2 (hostile review of issue 15): each test here failed when written ----
describe('review2: always-public loginPath/authPath and the POST refresh', () => {
  it('review2: a loginPath of "/" (sign-in form on the home page) does not make every protected path public', async () => {
    const m = mw({ loginPath: '/' });
    // The login page itself stays open ...
    expect(passed(await m(req(APP + '/')))).toBe(true);
    // ... but /dashboard and /api/protected must still need a session.
    const page = await m(req(APP + '/dashboard'));
    expect(passed(page), '/dashboard passed through without a session').toBe(false);
    expect(page.status).toBe(307);
    await expect401(await m(req(APP + '/api/protected')));
  });

  it('review2: a loginPath that is a prefix of a protected path does not unprotect it (/account vs /account/settings)', async () => {
    const m = mw({ loginPath: '/account', protectedPaths: ['/account/settings', '/api/protected'] });
    expect(passed(await m(req(APP + '/account')))).toBe(true);
    const res = await m(req(APP + '/account/settings'));
    expect(passed(res), '/account/settings passed through without a session').toBe(false);
    expect(res.status).toBe(307);
  });

  it("review2: only the SDK's own auth endpoints are public, not the app's other routes under authPath", async () => {
    const m = mw({ protectedPaths: ['/api'] });
    // The SDK's handlers answer only login/register/logout/refresh/session/oauth/*/callback/*;
    // an app route such as app/api/auth/users/route.ts (more specific than the catch-all) is the
    // app's own, and protectedPaths ['/api'] must cover it.
    for (const p of ['/api/auth/users', '/api/auth/admin/keys']) {
      await expect401(await m(req(APP + p)));
    }
  });

  it('review2: an http:// Origin on the same host does not count as same-origin for an https app (no refresh on its POST)', async () => {
    const HTTPS = 'https://app.example.com';
    const t = await register(short.url);
    await waitUntilExpired(t.access_token);
    const m = mw({}, short);
    const cookies = { '__Host-gatehouse_access_token': t.access_token, '__Host-gatehouse_refresh_token': t.refresh_token };
    // A page served over plain HTTP on the same host name (a network attacker, or another service
    // on port 80) is another origin, and in browsers without schemeful same-site also the same
    // site, so SameSite=Lax cookies ride along on its POST.
    const res = await m(
      req(HTTPS + '/dashboard', {
        method: 'POST',
        headers: { origin: 'http://app.example.com', host: 'app.example.com', 'next-action': 'abc123' },
        cookies,
        body: '[]',
      }),
    );
    expect(setCookies(res), 'the middleware renewed the session for an http:// origin').toEqual([]);
    expect(passed(res)).toBe(false);
    expect(await refreshStatus(short.url, t.refresh_token)).toBe(200);
  });
});

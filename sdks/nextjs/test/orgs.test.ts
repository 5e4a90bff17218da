// Organizations: has({ orgRole, permission }), the session's org and actor, and the organization
// switcher route handler. The switch is tested against a small stand-in Gatehouse on loopback
// that answers POST /api/v1/users/me/active-org as the contract says (a new access token carrying
// org_id, org_role and org_permissions; the session's earlier access tokens stop working), with
// its own JWKS and refresh endpoint.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, decodeJwt } from 'jose';
import { createGatehouse, has, type Gatehouse } from '../src/server.js';
import { toSession, actorOf, orgOf } from '../src/access.js';
import type { AccessClaims } from '../src/verify.js';
import { req, setCookies } from './helpers.js';

const APP = 'http://localhost:3000';
const SWITCH = APP + '/api/auth/active-org';

interface Membership {
  role: string;
  permissions: string[];
}

/** A stand-in Gatehouse: JWKS, active-org, refresh. One user, one session per refresh token. */
class StandIn {
  url = '';
  private server!: Server;
  private key!: CryptoKey;
  private jwk!: Record<string, unknown>;
  /** Organizations the user belongs to. */
  memberships: Record<string, Membership> = {
    'org-1': { role: 'admin', permissions: ['invoices:write', 'members:read'] },
    'org-2': { role: 'member', permissions: ['invoices:read'] },
  };
  /** Each session's active organization and the jti of its one live access token. */
  private sessions = new Map<string, { org: string; live: string }>();
  private refreshTokens = new Map<string, string>(); // refresh token → session id
  calls: { path: string; auth?: string; body?: unknown }[] = [];
  private n = 0;

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    this.key = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    this.server = createServer((rq, rs) => void this.handle(rq, rs));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A new session: its access token (optionally already expired) and refresh token. */
  async signIn(org = '', expired = false): Promise<{ access: string; refresh: string; sid: string }> {
    const sid = `s${++this.n}`;
    this.sessions.set(sid, { org, live: '' });
    const refresh = `r${this.n}-${Math.random().toString(36).slice(2)}`;
    this.refreshTokens.set(refresh, sid);
    return { access: await this.mint(sid, expired), refresh, sid };
  }

  private async mint(sid: string, expired = false): Promise<string> {
    const s = this.sessions.get(sid)!;
    const jti = `j${++this.n}`;
    s.live = jti;
    const now = Math.floor(Date.now() / 1000) - (expired ? 3600 : 0);
    const m = s.org ? this.memberships[s.org] : undefined;
    const claims: Record<string, unknown> = { sid, email: 'ada@example.com', email_verified: true, role: 'user', jti };
    if (s.org && m) Object.assign(claims, { org_id: s.org, org_role: m.role, org_permissions: m.permissions });
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(this.url)
      .setAudience(this.url)
      .setSubject('user-1')
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .sign(this.key);
  }

  private async handle(rq: IncomingMessage, rs: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of rq) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body = text ? JSON.parse(text) : undefined;
    const path = new URL(rq.url!, this.url).pathname;
    this.calls.push({ path, auth: rq.headers.authorization, body });
    const send = (status: number, value: unknown, type = 'application/json') => {
      rs.writeHead(status, { 'Content-Type': type });
      rs.end(JSON.stringify(value));
    };
    const problem = (status: number, code: string) => send(status, { status, error_code: code, detail: code }, 'application/problem+json');
    if (rq.method === 'GET' && path === '/.well-known/jwks.json') return send(200, { keys: [this.jwk] });
    if (rq.method === 'POST' && path === '/api/v1/auth/refresh') {
      const sid = this.refreshTokens.get(body?.refresh_token);
      if (!sid) return problem(401, 'invalid_refresh_token');
      this.refreshTokens.delete(body.refresh_token);
      const refresh = `r${++this.n}-${Math.random().toString(36).slice(2)}`;
      this.refreshTokens.set(refresh, sid);
      const user = { id: 'user-1', email: 'ada@example.com', name: 'Ada', email_verified: true, role: 'user', roles: ['user'], is_active: true, avatar_url: null, created_at: '2026-01-01T00:00:00Z' };
      return send(200, { access_token: await this.mint(sid), refresh_token: refresh, token_type: 'bearer', expires_in: 900, user });
    }
    if (rq.method === 'POST' && path === '/api/v1/users/me/active-org') {
      const token = /^Bearer (.+)$/.exec(rq.headers.authorization ?? '')?.[1];
      const c = token ? decodeJwt(token) : undefined;
      const s = c && typeof c.sid === 'string' ? this.sessions.get(c.sid) : undefined;
      if (!c || !s || s.live !== c.jti || (c.exp ?? 0) * 1000 < Date.now()) return problem(401, 'unauthorized');
      if (typeof body?.org_id !== 'string') return problem(422, 'validation_failed');
      if (body.org_id !== '' && !this.memberships[body.org_id]) return problem(403, 'not_org_member');
      s.org = body.org_id;
      return send(200, { access_token: await this.mint(c.sid as string), token_type: 'bearer', expires_in: 900, org_id: body.org_id });
    }
    problem(404, 'not_found');
  }
}

const standin = new StandIn();
let gh: Gatehouse;
beforeAll(async () => {
  await standin.start();
  gh = createGatehouse({ authUrl: standin.url });
});
afterAll(() => standin.stop());

const cookies = (t: { access: string; refresh: string }) => ({ gatehouse_access_token: t.access, gatehouse_refresh_token: t.refresh });
const jsonPost = (body: unknown, c: Record<string, string>, headers: Record<string, string> = { origin: APP }) =>
  req(SWITCH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, cookies: c, body: JSON.stringify(body) });
const cookieOf = (res: Response, name: string) => setCookies(res).find((c) => c.name === name);
const switchCalls = () => standin.calls.filter((c) => c.path === '/api/v1/users/me/active-org').length;

describe('organization switcher route handler (POST …/active-org)', () => {
  it('switches at Gatehouse and renews the access cookie with a token that carries the organization', async () => {
    const t = await standin.signIn();
    const before = await gh.auth({ request: req(APP + '/', { cookies: cookies(t) }) });
    expect(before?.org).toBeUndefined();
    expect(has(before, { permission: 'invoices:write' })).toBe(false);

    const res = await gh.handlers.POST(jsonPost({ org_id: 'org-1' }, cookies(t)));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body.org).toEqual({ id: 'org-1', role: 'admin', permissions: ['invoices:write', 'members:read'] });
    expect(body.access_token).toBeUndefined();
    // Gatehouse was asked with the session's own token.
    expect(standin.calls.at(-1)).toMatchObject({ path: '/api/v1/users/me/active-org', auth: `Bearer ${t.access}`, body: { org_id: 'org-1' } });
    const access = cookieOf(res, 'gatehouse_access_token')!;
    const refresh = cookieOf(res, 'gatehouse_refresh_token')!;
    expect(access.value).not.toBe(t.access);
    expect(access.attrs['httponly']).toBe(true);
    expect(String(access.attrs['samesite']).toLowerCase()).toBe('lax');
    expect(refresh.value).toBe(t.refresh); // Gatehouse sent no new refresh token: the old one stands

    const s = await gh.auth({ request: req(APP + '/', { cookies: { gatehouse_access_token: access.value, gatehouse_refresh_token: refresh.value } }) });
    expect(s?.org).toEqual({ id: 'org-1', role: 'admin', permissions: ['invoices:write', 'members:read'] });
    expect(has(s, { permission: 'invoices:write' })).toBe(true);
    expect(has(s, { orgRole: 'admin' })).toBe(true);
    // An organization admin is not a Gatehouse admin.
    expect(has(s, { role: 'admin' })).toBe(false);
    expect(has(s, { role: 'user', orgRole: ['owner', 'admin'], permission: ['invoices:write', 'members:read'] })).toBe(true);
    expect(has(s, { permission: ['invoices:write', 'members:write'] })).toBe(false);

    // Back to no organization.
    const none = await gh.handlers.POST(jsonPost({ org_id: '' }, { gatehouse_access_token: access.value, gatehouse_refresh_token: refresh.value }));
    expect(none.status).toBe(200);
    expect((await none.json()).org).toBeNull();
  });

  it('a form post redirects (303) to a safe callbackUrl only', async () => {
    const t = await standin.signIn();
    const form = (fields: Record<string, string>) =>
      req(SWITCH, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP }, cookies: cookies(t), body: new URLSearchParams(fields).toString() });
    const ok = await gh.handlers.POST(form({ org_id: 'org-2', callbackUrl: '/billing?tab=1' }));
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/billing?tab=1');
    expect(decodeJwt(cookieOf(ok, 'gatehouse_access_token')!.value).org_id).toBe('org-2');
    const t2 = await standin.signIn();
    const evil = await gh.handlers.POST(
      req(SWITCH, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP }, cookies: cookies(t2), body: new URLSearchParams({ org_id: 'org-2', callbackUrl: '//evil.example/x' }).toString() }),
    );
    expect(evil.status).toBe(303);
    expect(evil.headers.get('location')).toBe('/');
  });

  it('refuses cross-site requests before asking Gatehouse (CSRF)', async () => {
    const t = await standin.signIn();
    const n = switchCalls();
    const attempts: Record<string, string>[] = [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }];
    for (const headers of attempts) {
      const res = await gh.handlers.POST(jsonPost({ org_id: 'org-1' }, cookies(t), headers));
      expect(res.status).toBe(403);
      expect((await res.json()).error_code).toBe('cross_site_request');
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    expect(switchCalls()).toBe(n);
  });

  it('passes Gatehouse\'s refusal on and keeps the cookies', async () => {
    const t = await standin.signIn('org-1');
    const res = await gh.handlers.POST(jsonPost({ org_id: 'org-9' }, cookies(t)));
    expect(res.status).toBe(403);
    expect((await res.json()).error_code).toBe('not_org_member');
    expect(cookieOf(res, 'gatehouse_access_token')).toBeUndefined();
    const s = await gh.auth({ request: req(APP + '/', { cookies: cookies(t) }) });
    expect(s?.org?.id).toBe('org-1');
  });

  it('renews an expired access token first, and keeps the new refresh token', async () => {
    const t = await standin.signIn('', true);
    const res = await gh.handlers.POST(jsonPost({ org_id: 'org-2' }, cookies(t)));
    expect(res.status).toBe(200);
    const refresh = cookieOf(res, 'gatehouse_refresh_token')!.value;
    expect(refresh).not.toBe(t.refresh); // the old one was spent by the renewal
    expect(decodeJwt(cookieOf(res, 'gatehouse_access_token')!.value)).toMatchObject({ org_id: 'org-2', org_role: 'member' });
  });

  it('answers 401 without a session and 400 without org_id, asking Gatehouse nothing', async () => {
    const n = switchCalls();
    const none = await gh.handlers.POST(jsonPost({ org_id: 'org-1' }, {}));
    expect(none.status).toBe(401);
    const t = await standin.signIn();
    for (const body of [{}, { org_id: 7 }, { org_id: 'x'.repeat(129) }, { org_id: 'org-1\n' }]) {
      const bad = await gh.handlers.POST(jsonPost(body, cookies(t)));
      expect(bad.status).toBe(400);
      expect((await bad.json()).error_code).toBe('invalid_org');
    }
    expect(switchCalls()).toBe(n);
  });
});

describe('has() and the session object', () => {
  const claims = (extra: Record<string, unknown>): AccessClaims => ({ sub: 'user-1', exp: 2e9, iat: 1e9, role: 'user', ...extra });
  const session = (extra: Record<string, unknown>) => toSession({ kind: 'session', claims: claims(extra), accessToken: 'x', via: 'cookie' });

  it('reads org permissions and roles apart from scopes and the account role', () => {
    const s = session({ org_id: 'org-1', org_role: 'billing', org_permissions: ['invoices:write'] });
    expect(s?.org).toEqual({ id: 'org-1', role: 'billing', permissions: ['invoices:write'] });
    expect(has(s, { permission: 'invoices:write' })).toBe(true);
    expect(has(s, { permission: 'INVOICES:WRITE' })).toBe(false);
    expect(has(s, { permission: '' })).toBe(false);
    expect(has(s, { permission: [] })).toBe(false);
    expect(has(s, { orgRole: 'billing' })).toBe(true);
    expect(has(s, { role: 'billing' })).toBe(false); // an organization role is not an account role
    expect(has(s, { scope: 'invoices:write' })).toBe(false); // a permission is not a scope
    const apiKey = toSession({ kind: 'api_key', introspection: { active: true, sub: 'user-1', scope: 'invoices:write' }, scopes: ['invoices:write'] });
    expect(has(apiKey, { permission: 'invoices:write' })).toBe(false); // a scope is not a permission
    expect(has(null, { permission: 'invoices:write' })).toBe(false);
  });

  it('fails closed on malformed organization claims', () => {
    for (const extra of [
      { org_id: 'org-1', org_permissions: 'invoices:write' },
      { org_id: 'org-1', org_permissions: [1] },
      { org_id: 7, org_permissions: ['invoices:write'] },
      { org_id: 'org-1', org_role: ['owner'], org_permissions: ['invoices:write'] },
      { org_permissions: ['invoices:write'] },
    ]) {
      const s = session(extra);
      expect(s?.org, JSON.stringify(extra)).toBeUndefined();
      expect(has(s, { permission: 'invoices:write' })).toBe(false);
      expect(orgOf(claims(extra))).toBeUndefined();
    }
    expect(JSON.stringify(session({}))).not.toContain('"org"'); // no undefined fields either
  });

  it('carries the actor of an impersonation or a delegation', () => {
    expect(session({ act: { sub: 'admin-1' } })?.actor).toEqual({ sub: 'admin-1' });
    expect(actorOf(claims({ act: { sub: 'agent-b', act: { sub: 'agent-a' } } }))).toEqual({ sub: 'agent-b', act: { sub: 'agent-a' } });
    expect(session({})?.actor).toBeUndefined();
    for (const act of ['admin', { sub: '' }, { act: { sub: 'a' } }, [{ sub: 'a' }], { sub: 'a', act: { sub: 'b', act: { sub: 'c', act: { sub: 'd' } } } }]) {
      expect(actorOf(claims({ act })), JSON.stringify(act)).toBeUndefined();
    }
  });
});

describe('auth.protect({ permission, orgRole }) in the middleware callback', () => {
  it('lets a member with the permission through and refuses the others (403 on API routes, sign in again on pages)', async () => {
    const mw = createGatehouse({ authUrl: standin.url, loginPath: '/login' }).middleware((auth, request) => {
      if (request.nextUrl.pathname.startsWith('/api/invoices')) auth.protect({ permission: 'invoices:write' });
      else if (request.nextUrl.pathname.startsWith('/settings')) auth.protect({ orgRole: ['owner', 'admin'] });
    });
    const admin = await standin.signIn('org-1'); // admin, invoices:write
    const member = await standin.signIn('org-2'); // member, invoices:read
    const loner = await standin.signIn(); // no organization

    const ok = await mw(req(APP + '/api/invoices', { cookies: cookies(admin) }));
    expect(ok.headers.get('x-middleware-next')).toBe('1');
    for (const t of [member, loner]) {
      const no = await mw(req(APP + '/api/invoices', { cookies: cookies(t) }));
      expect(no.status).toBe(403);
      expect((await no.json()).detail).toContain('permission');
    }
    expect((await mw(req(APP + '/settings', { cookies: cookies(admin) }))).headers.get('x-middleware-next')).toBe('1');
    const page = await mw(req(APP + '/settings', { cookies: cookies(member) }));
    expect(page.status).toBe(307);
    expect(new URL(page.headers.get('location')!).searchParams.get('error')).toBe('forbidden');
  });
});

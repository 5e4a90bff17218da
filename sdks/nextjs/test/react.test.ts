// `@gatehouse/next-sdk/react`: the provider and hooks (rendered with react-dom/server, no DOM), and
// signIn()/signOut() against the real route handlers and a real Gatehouse.
import { describe, expect, it, inject, beforeAll } from 'vitest';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { GatehouseProvider, signIn, signOut, useSession, useUser } from '../src/react.js';
import { createGatehouse } from '../src/server.js';
import { cookiesOf, register, req, PASSWORD } from './helpers.js';
import type { TokenResponse } from '../src/client.js';

const main = inject('main');
const APP = 'http://localhost:3000';
const sdkDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function Who() {
  const s = useSession();
  const u = useUser();
  return createElement('p', null, s ? `${s.kind}:${u?.email}` : 'anonymous');
}

/** A browser's fetch to this app: same origin, with the given cookies, into the real handlers. */
function appFetch(cookies: Record<string, string> = {}, origin = APP) {
  const calls: { url: string; method: string }[] = [];
  const g = createGatehouse({ apiKey: main.appKey, authUrl: main.url });
  const f = async (input: string, init?: RequestInit) => {
    calls.push({ url: input, method: init?.method ?? 'GET' });
    const headers = { ...(init?.headers as Record<string, string>), origin };
    const r = req(new URL(input, APP).toString(), { method: init?.method, headers, body: init?.body as string, cookies });
    return init?.method === 'POST' ? g.handlers.POST(r) : g.handlers.GET(r);
  };
  return { f, calls };
}

let alice: TokenResponse;
beforeAll(async () => {
  alice = await register(main.url);
});

describe('GatehouseProvider, useSession(), useUser()', () => {
  it('give Client Components the session from auth()', async () => {
    const session = await createGatehouse({ apiKey: main.appKey, authUrl: main.url }).auth({
      request: req(APP + '/', { cookies: cookiesOf(alice) }),
    });
    expect(session).not.toBeNull();
    const html = renderToString(createElement(GatehouseProvider, { session }, createElement(Who)));
    expect(html).toContain(`session:${alice.user.email}`);
    expect(html).not.toContain(alice.access_token);
  });

  it('answer null without a session', () => {
    expect(renderToString(createElement(GatehouseProvider, { session: null }, createElement(Who)))).toContain('anonymous');
  });

  it('throw outside the provider', () => {
    expect(() => renderToString(createElement(Who))).toThrow(/GatehouseProvider/);
  });
});

describe('signIn() and signOut()', () => {
  it('signIn(provider) goes to the OAuth handler with a safe callbackUrl', async () => {
    const went: string[] = [];
    await signIn('github', { callbackUrl: '/dashboard?x=1', navigate: (u) => went.push(u) });
    await signIn('GitHub', { callbackUrl: '//evil.com', navigate: (u) => went.push(u), authPath: '/auth/' });
    expect(went).toEqual(['/api/auth/oauth/github?callbackUrl=%2Fdashboard%3Fx%3D1', '/auth/oauth/github']);
  });

  it('signIn() without credentials goes to the login page', async () => {
    const went: string[] = [];
    await signIn(undefined, { callbackUrl: '/dashboard', navigate: (u) => went.push(u) });
    await signIn(undefined, { loginPath: '/signin?x=1', callbackUrl: 'https://evil.com', navigate: (u) => went.push(u) });
    expect(went).toEqual(['/login?callbackUrl=%2Fdashboard', '/signin?x=1']);
  });

  it('signIn(undefined, { email, password }) signs in through POST /api/auth/login, then navigates', async () => {
    const { f, calls } = appFetch();
    const went: string[] = [];
    const r = await signIn(undefined, { email: alice.user.email, password: PASSWORD, callbackUrl: '/dashboard', fetch: f, navigate: (u) => went.push(u) });
    expect(r).toMatchObject({ ok: true, user: { id: alice.user.id } });
    expect(calls).toEqual([{ url: '/api/auth/login', method: 'POST' }]);
    expect(went).toEqual(['/dashboard']);
  });

  it('signIn with a wrong password answers the error and does not navigate', async () => {
    const { f } = appFetch();
    const went: string[] = [];
    const r = await signIn(undefined, { email: alice.user.email, password: 'wrong password here', fetch: f, navigate: (u) => went.push(u) });
    expect(r).toEqual({ ok: false, status: 401, error: 'invalid_credentials' });
    expect(went).toEqual([]);
  });

  it('a cross-site caller is refused by the handler (CSRF)', async () => {
    const { f } = appFetch({}, 'https://evil.example');
    const r = await signIn(undefined, { email: alice.user.email, password: PASSWORD, fetch: f, navigate: () => {} });
    expect(r).toEqual({ ok: false, status: 403, error: 'cross_site_request' });
  });

  it('signOut() revokes the session through POST /api/auth/logout, then navigates', async () => {
    const bob = await register(main.url);
    const { f, calls } = appFetch(cookiesOf(bob));
    const went: string[] = [];
    expect(await signOut({ fetch: f, callbackUrl: '/bye', navigate: (u) => went.push(u) })).toEqual({ ok: true });
    expect(calls).toEqual([{ url: '/api/auth/logout', method: 'POST' }]);
    expect(went).toEqual(['/bye']);
    const refreshed = await fetch(`${main.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: bob.refresh_token }),
    });
    expect(refreshed.status).toBe(401);
  });
});

describe('the built react entry', () => {
  it("is a 'use client' module that imports only react and runtime-neutral code", () => {
    const js = readFileSync(path.join(sdkDir, 'dist/react.js'), 'utf8');
    expect(js.startsWith("'use client';")).toBe(true);
    const specifiers = [...js.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
    expect(specifiers.sort()).toEqual(['./redirect.js', 'react']);
    expect(readFileSync(path.join(sdkDir, 'dist/redirect.js'), 'utf8')).not.toMatch(/\bimport\b/);
    const pkg = JSON.parse(readFileSync(path.join(sdkDir, 'package.json'), 'utf8'));
    expect(pkg.exports['./react']).toMatchObject({ types: './dist/react.d.ts', import: './dist/react.js' });
  });
});

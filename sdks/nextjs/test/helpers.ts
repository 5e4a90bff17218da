import { NextRequest } from 'next/server';
import { decodeJwt } from 'jose';
import type { TokenResponse } from '../src/client.js';

export const PASSWORD = 'correct horse battery staple';
let counter = 0;

export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}@example.com`;
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

/** Registers a fresh account at a Gatehouse server and returns its token response. */
export async function register(base: string, email = uniqueEmail()): Promise<TokenResponse> {
  const res = await post(`${base}/api/v1/auth/register`, { email, password: PASSWORD, name: 'Test User' });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenResponse;
}

export async function login(base: string, email: string): Promise<TokenResponse> {
  const res = await post(`${base}/api/v1/auth/login`, { email, password: PASSWORD });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenResponse;
}

/** Calls Gatehouse's refresh directly; returns the status. */
export async function refreshStatus(base: string, refreshToken: string): Promise<number> {
  const res = await post(`${base}/api/v1/auth/refresh`, { refresh_token: refreshToken });
  await res.text();
  return res.status;
}

export async function introspect(base: string, appKey: string, token: string): Promise<{ active: boolean; [k: string]: unknown }> {
  const res = await fetch(`${base}/api/v1/auth/introspect`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-API-Key': appKey },
    body: JSON.stringify({ token }),
  });
  return (await res.json()) as { active: boolean };
}

export interface ReqInit {
  method?: string;
  headers?: Record<string, string>;
  cookies?: Record<string, string | undefined>;
  body?: string;
}

/** A NextRequest as Next.js would hand it to the middleware or a route handler. */
export function req(url: string, init: ReqInit = {}): NextRequest {
  const headers = new Headers(init.headers);
  const jar = Object.entries(init.cookies ?? {}).filter(([, v]) => v !== undefined);
  if (jar.length > 0) headers.set('cookie', jar.map(([k, v]) => `${k}=${v}`).join('; '));
  return new NextRequest(new URL(url), { method: init.method ?? 'GET', headers, body: init.body });
}

export const cookiesOf = (t: TokenResponse) => ({ gatehouse_access_token: t.access_token, gatehouse_refresh_token: t.refresh_token });

/** True when the middleware let the request through (NextResponse.next()). */
export function passed(res: Response): boolean {
  return res.headers.get('x-middleware-next') === '1';
}

/** The request headers the middleware forwards to the app. */
export function forwarded(res: Response): Headers {
  const out = new Headers();
  const keys = res.headers.get('x-middleware-override-headers');
  if (!keys) return out;
  for (const k of keys.split(',')) {
    const v = res.headers.get(`x-middleware-request-${k}`);
    if (v !== null) out.set(k, v);
  }
  return out;
}

export interface SetCookie {
  name: string;
  value: string;
  attrs: Record<string, string | true>;
}

/** Parses the response's Set-Cookie headers. */
export function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map((line) => {
    const [pair, ...rest] = line.split(';');
    const i = pair!.indexOf('=');
    const attrs: Record<string, string | true> = {};
    for (const a of rest) {
      const j = a.indexOf('=');
      if (j < 0) attrs[a.trim().toLowerCase()] = true;
      else attrs[a.slice(0, j).trim().toLowerCase()] = a.slice(j + 1).trim();
    }
    return { name: pair!.slice(0, i).trim(), value: decodeURIComponent(pair!.slice(i + 1).trim()), attrs };
  });
}

export function cookieValue(res: Response, name: string): string | undefined {
  return setCookies(res).find((c) => c.name === name)?.value;
}

/** Waits until the token's `exp` has passed by the verifier's clock (whole seconds). */
export async function waitUntilExpired(token: string): Promise<void> {
  const { exp } = decodeJwt(token);
  const ms = exp! * 1000 - Date.now() + 20;
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

/** A fetch wrapper that counts calls per path and can fail chosen paths. */
export function countingFetch(fail?: (url: URL) => boolean) {
  const counts = new Map<string, number>();
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    if (fail?.(url)) throw new TypeError('fetch failed (simulated)');
    return fetch(input, init);
  };
  return { fetch: f, count: (p: string) => counts.get(p) ?? 0 };
}

/** An address where nothing listens. */
export const DEAD_URL = 'http://127.0.0.1:9';

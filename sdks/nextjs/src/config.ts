// Options shared by the middleware and the server helpers, and how their defaults are resolved.
// This module must stay free of Node APIs: the middleware may run on the Edge runtime.

/** A `fetch` implementation; defaults to the global one. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface CookieNameOptions {
  /** Name of the access-token cookie (default `gatehouse_access_token`; `__Host-` is prepended over HTTPS). */
  access?: string;
  /** Name of the refresh-token cookie (default `gatehouse_refresh_token`; `__Host-` is prepended over HTTPS). */
  refresh?: string;
}

export interface GatehouseOptions {
  /**
   * The app's Gatehouse API key, with scope `tokens:introspect`. Server-side only: read it from a
   * non-`NEXT_PUBLIC_` environment variable. Default `process.env.GATEHOUSE_API_KEY`.
   */
  apiKey?: string;
  /** Base URL of the Gatehouse server as this app reaches it. Default `process.env.GATEHOUSE_URL`. */
  authUrl?: string;
  /** Expected `iss` of access tokens: Gatehouse's public URL. Default `process.env.GATEHOUSE_ISSUER`, else `authUrl`. */
  issuer?: string;
  /** Expected `aud` of access tokens. Default `process.env.GATEHOUSE_AUDIENCE`, else the issuer. */
  audience?: string | string[];
  /** JWKS location. Default `{authUrl}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Accepted signing algorithms. Default `['ES256']` (Gatehouse's default; add `RS256`/`EdDSA` if configured so). */
  algorithms?: string[];
  /** Where unauthenticated page requests are sent. Default `/login`. */
  loginPath?: string;
  /** Cookie names (without the `__Host-` prefix). */
  cookies?: CookieNameOptions;
  /**
   * Whether cookies are `Secure` and `__Host-`-prefixed. Default: decided per request, true when the
   * request came over HTTPS (the URL scheme or the first `X-Forwarded-Proto` value).
   */
  secureCookies?: boolean;
  /** Lifetime of the session cookies in seconds. Default 30 days (Gatehouse's session lifetime). */
  cookieMaxAge?: number;
  /** Timeout of each call to Gatehouse, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Custom `fetch` for calls to Gatehouse (tests, proxies). */
  fetch?: FetchLike;
}

export interface ResolvedConfig {
  apiKey: string | undefined;
  authUrl: string;
  issuer: string;
  audience: string | string[];
  jwksUrl: string;
  algorithms: string[];
  loginPath: string;
  accessCookie: string;
  refreshCookie: string;
  secureCookies: boolean | undefined;
  cookieMaxAge: number;
  timeoutMs: number;
  fetch: FetchLike;
}

/** Thrown (and reported as a 500) when the SDK is not configured well enough to work. */
export class GatehouseConfigError extends Error {
  override name = 'GatehouseConfigError';
}

/** Reads an environment variable where one exists (Node and Next's Edge runtime both have `process.env`). */
export function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = p?.env?.[name];
  return v === undefined || v === '' ? undefined : v;
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

export const DEFAULT_ACCESS_COOKIE = 'gatehouse_access_token';
export const DEFAULT_REFRESH_COOKIE = 'gatehouse_refresh_token';
export const DEFAULT_COOKIE_MAX_AGE = 30 * 24 * 60 * 60;

/**
 * Resolves options against the environment. Called lazily (at the first request), so that a build
 * without the runtime variables still succeeds; a missing URL is reported then, loudly.
 */
export function resolveConfig(o: GatehouseOptions): ResolvedConfig {
  const rawUrl = o.authUrl ?? env('GATEHOUSE_URL');
  if (!rawUrl) {
    throw new GatehouseConfigError('gatehouse: no Gatehouse URL: pass authUrl or set GATEHOUSE_URL');
  }
  let authUrl: string;
  try {
    const u = new URL(rawUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    authUrl = trimSlash(u.href);
  } catch {
    throw new GatehouseConfigError(`gatehouse: authUrl ${JSON.stringify(rawUrl)} is not an http(s) URL`);
  }
  const issuer = o.issuer ?? env('GATEHOUSE_ISSUER') ?? authUrl;
  const audience = o.audience ?? env('GATEHOUSE_AUDIENCE') ?? issuer;
  const loginPath = o.loginPath ?? '/login';
  if (!loginPath.startsWith('/') || loginPath.startsWith('//')) {
    throw new GatehouseConfigError(`gatehouse: loginPath must be a path starting with "/", got ${JSON.stringify(loginPath)}`);
  }
  const f = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return {
    apiKey: o.apiKey || env('GATEHOUSE_API_KEY'),
    authUrl,
    issuer,
    audience,
    jwksUrl: o.jwksUrl ?? `${authUrl}/.well-known/jwks.json`,
    algorithms: o.algorithms && o.algorithms.length > 0 ? [...o.algorithms] : ['ES256'],
    loginPath,
    accessCookie: o.cookies?.access ?? DEFAULT_ACCESS_COOKIE,
    refreshCookie: o.cookies?.refresh ?? DEFAULT_REFRESH_COOKIE,
    secureCookies: o.secureCookies,
    cookieMaxAge: o.cookieMaxAge ?? DEFAULT_COOKIE_MAX_AGE,
    timeoutMs: o.timeoutMs ?? 5000,
    fetch: f,
  };
}

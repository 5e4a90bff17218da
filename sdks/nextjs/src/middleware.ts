// `@gatehouse/next-sdk/middleware`: protects pages and API routes in front of the app.
// Web APIs, `next/server` and `jose` only: it runs on the Edge runtime (middleware.ts) and on the
// Node.js runtime (Next 16's proxy.ts) alike.
import { NextResponse, type NextRequest } from 'next/server.js';
import { has, toSession, type HasOptions } from './access.js';
import type { GatehouseOptions } from './config.js';
import { GatehouseConfigError } from './config.js';
import { cookieAttributes, replaceCookies } from './cookies.js';
import { Engine, type AuthResult } from './core.js';
import { asciiHeader, headerSafe, IDENTITY_HEADER_PREFIX, IdentityHeaders, stripIdentityHeaders } from './identity.js';
import { originVerdict } from './origin.js';
import { classifyPath, compileRules, normalisePattern, pathCandidates, relativeTarget, sdkPublicPaths } from './paths.js';
import { withQuery } from './redirect.js';
import {
  forbiddenProblem,
  misconfiguredProblem,
  problemBody,
  problemHeaders,
  unauthorizedProblem,
  unavailableProblem,
  type ProblemInit,
} from './responses.js';
import type { GatehouseSession } from './session.js';

export interface MiddlewareOptions extends GatehouseOptions {
  /** The app's Gatehouse API key (scope `tokens:introspect`), used to check machine callers' keys. Server-side only. */
  apiKey: string;
  /** Path prefixes that need a session, matched on segment boundaries after normalisation. */
  protectedPaths: string[];
  /** Where unauthenticated page requests are sent (`?callbackUrl=` is appended). Default `/login`. */
  loginPath?: string;
  /** Path prefixes passed through untouched (they win over protectedPaths when every reading of the path is public). */
  publicPaths?: string[];
  /** Path prefixes answered as an API (401/403 problem+json, never redirects). Default `['/api']`. */
  apiPaths?: string[];
  /** Scopes a machine caller's API key must have on protected API routes. Default none. */
  apiKeyScopes?: string[];
  /** Seconds an introspection answer for an API key is reused. Default 5; 0 disables the cache. */
  introspectionCacheSeconds?: number;
  /** Seconds before expiry at which a GET renews the session early. Default 10 (at most half the token's lifetime). */
  refreshThresholdSeconds?: number;
  /** Where the SDK's route handlers are mounted (`app/api/auth/[...gatehouse]/route.ts`). Always public,
   * like loginPath, so that `protectedPaths: ['/']` cannot lock everyone out. Default `/api/auth`. */
  authPath?: string;
  /** Extra origins whose POSTs count as same-origin (for renewing sessions on POSTs and Server Actions). */
  trustedOrigins?: string[];
}

export type GatehouseMiddleware = (request: NextRequest, event?: unknown) => Promise<NextResponse>;

/** What `auth.protect()` requires besides a valid session or API key. */
export type ProtectOptions = HasOptions;

/**
 * The first argument of a middleware callback: `auth()` answers the request's verified identity
 * (or null), `auth.protect()` refuses the request unless there is one (with the role or scopes
 * asked for), and answers it.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MiddlewareAuth<Claims extends object = {}> {
  (): GatehouseSession<Claims> | null;
  /**
   * Refuses the request unless it is authenticated (and has `role`/`scope`): an anonymous page
   * visitor goes to `loginPath?callbackUrl=…`, an anonymous API call gets 401, a signed-in user
   * without the role goes to `loginPath?error=forbidden&callbackUrl=…` (403 on API routes). It
   * throws to stop the callback, and the refusal stands even if the callback catches that (or
   * returns a response of its own). Answers the session otherwise.
   */
  protect(options?: ProtectOptions): GatehouseSession<Claims>;
}

/** A middleware callback: `(auth, request) => { if (isProtected(request)) auth.protect(); }`. It may
 * return a response of its own (a redirect, a rewrite, `NextResponse.next()` with headers). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type MiddlewareCallback<Claims extends object = {}> = (
  auth: MiddlewareAuth<Claims>,
  request: NextRequest,
  event: unknown,
) => Response | void | undefined | Promise<Response | void | undefined>;

/** A route pattern: a path (`/dashboard` covers `/dashboard` and `/dashboard/…`), a path with
 * `:param` segments and a trailing `(.*)` (`/org/:id/settings`, `/admin(.*)`), or a RegExp. */
export type RouteMatcherParam = string | RegExp | (string | RegExp)[];

/**
 * `createRouteMatcher(['/dashboard', '/admin(.*)', /^\/reports\//])` answers a predicate on
 * requests for middleware callbacks. Paths are read every way a later layer might (the middleware's
 * normalisation: slashes collapsed, escapes decoded, dot segments, case folded), and the predicate
 * is true when ANY reading matches: fail closed when it picks what to protect. (To leave paths
 * open, use the `publicPaths` option: public only when every reading is public.)
 */
export function createRouteMatcher(patterns: RouteMatcherParam): (request: { nextUrl?: URL; url: string }) => boolean {
  const list = (Array.isArray(patterns) ? patterns : [patterns]).map(compilePattern);
  return (request) => {
    const pathname = request.nextUrl?.pathname ?? new URL(request.url).pathname;
    return pathCandidates(pathname).some((c) => list.some((test) => test(c)));
  };
}

function compilePattern(p: string | RegExp): (candidate: string) => boolean {
  if (p instanceof RegExp) {
    const re = new RegExp(p.source, p.flags.replace(/[gy]/g, ''));
    return (c) => re.test(c);
  }
  if (typeof p !== 'string' || !p.startsWith('/')) throw new TypeError(`gatehouse: route patterns must start with "/", got ${JSON.stringify(p)}`);
  if (!/[:(]/.test(p)) {
    const prefix = normalisePattern(p);
    return (c) => prefix === '/' || c === prefix || c.startsWith(prefix + '/');
  }
  let src = '';
  const re = /\(\.\*\)|:[A-Za-z_][A-Za-z0-9_]*|[^:(]+|[:(]/g;
  for (const m of p.toLowerCase().matchAll(re)) {
    const t = m[0];
    if (t === '(.*)') src += '.*';
    else if (t.startsWith(':') && t.length > 1) src += '[^/]+';
    else if (t === '(') throw new TypeError(`gatehouse: route pattern ${JSON.stringify(p)}: only "(.*)" is supported; use a RegExp for more`);
    else src += t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const compiled = new RegExp(`^${src.replace(/\/+$/, '') || '/'}/?$`);
  return (c) => compiled.test(c);
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Creates the middleware. Use it as the guide shows, in `middleware.ts`:
 *
 * ```ts
 * export const middleware = createMiddleware({ apiKey: process.env.GATEHOUSE_API_KEY!, protectedPaths: ['/dashboard'], loginPath: '/login' });
 * ```
 * or as `export default createMiddleware({...})` in Next 16's `proxy.ts`. With a `callback`, the
 * middleware runs it for every path that is not public, after `protectedPaths` (see
 * MiddlewareCallback); `createGatehouse(config).middleware(callback)` is the same from the one
 * configuration shared with the server helpers.
 */
export function createMiddleware(options: MiddlewareOptions, callback?: MiddlewareCallback<object>): GatehouseMiddleware {
  if (callback !== undefined && typeof callback !== 'function') throw new TypeError('gatehouse: the middleware callback must be a function');
  const loginPath = options.loginPath ?? '/login';
  const authPath = options.authPath ?? '/api/auth';
  // Path rules are checked now (a typo should fail the build); the rest waits for the first request,
  // so that `next build` works without the runtime environment.
  const rules = compileRules({
    protectedPaths: options.protectedPaths,
    // The login page and the SDK's own route handlers (sign-in, refresh, OAuth callback) can never
    // be protected: that would be a redirect loop, or nobody could sign in. They are public by
    // exact path, so that neither makes anything else public.
    publicPaths: options.publicPaths,
    ...sdkPublicPaths(loginPath, authPath),
    apiPaths: options.apiPaths,
  });
  const requiredScopes = options.apiKeyScopes ?? [];
  const ttl = (options.introspectionCacheSeconds ?? 5) * 1000;
  let engine: Engine | undefined;

  return async function gatehouseMiddleware(request: NextRequest, event?: unknown): Promise<NextResponse> {
    const url = request.nextUrl;
    // Identity headers are ours alone: drop whatever the client sent under that prefix.
    const forward = stripIdentityHeaders(request.headers);
    const target = relativeTarget(url.pathname, url.search);
    forward.set(IdentityHeaders.path, asciiHeader(target));

    const route = classifyPath(url.pathname, rules);
    if (route.kind === 'public') return pass(forward);
    const method = request.method.toUpperCase();
    const safe = SAFE_METHODS.has(method);
    // A Server Action is a POST with a `Next-Action` header, answered to Next's action client.
    const action = method === 'POST' && request.headers.has('next-action');

    try {
      engine ??= new Engine({ ...options, loginPath }, ttl);
    } catch (e) {
      if (e instanceof GatehouseConfigError) {
        console.error(e.message);
        if (route.kind === 'protected') return problem(misconfiguredProblem());
        if (!callback) return pass(forward);
        // The callback still runs: auth() answers null, protect() refuses with the same 500.
        return runCallback({ kind: 'misconfigured', error: e }, undefined, false);
      }
      throw e;
    }

    // Renewing spends the refresh token and sets cookies: on GET/HEAD, and on other methods (form
    // posts, fetch() calls, Server Actions) only when the browser says they come from this app's
    // own origin, never for a cross-site (or unknown) origin.
    const renew = safe || originVerdict(request, options.trustedOrigins) === 'same';
    const secure = engine.secure(request.headers, url);
    const creds = engine.credentials(request.headers, secure);
    const result = await engine.authenticate(creds, {
      allowApiKey: route.api,
      requiredScopes,
      allowRefresh: renew,
      renewEarlySeconds: options.refreshThresholdSeconds ?? 10,
      client: { userAgent: request.headers.get('user-agent'), forwardedFor: request.headers.get('x-forwarded-for') },
    });

    function loginTarget(error?: string): string {
      return `${url.basePath || ''}${withQuery(loginPath, { error, callbackUrl: target })}`;
    }
    /** The answer to a request that may not go on: no (valid) credentials, or not the right ones. */
    function refuse(r: AuthResult | { kind: 'lacks'; detail: string }): NextResponse {
      if (r.kind === 'misconfigured') return problem(misconfiguredProblem(r.error.message)); // logged by the client
      if (r.kind === 'unavailable') {
        console.error(`gatehouse: authentication unavailable: ${(r.error as Error)?.message ?? r.error}`);
        return problem(unavailableProblem());
      }
      if (r.kind === 'forbidden') return problem(forbiddenProblem(r.detail));
      // Signed in, but without the role (or scopes) protect() asked for: an API gets 403; a page
      // sends the user to sign in as someone else, as requireUser({ role }) does.
      const error = r.kind === 'lacks' ? 'forbidden' : undefined;
      if (r.kind === 'lacks' && (route.api || (!safe && !action))) return problem(forbiddenProblem(r.detail));
      if (action && !route.api) {
        // Next's action client cannot use a 401 problem document, and it follows an HTTP redirect
        // with fetch(). It understands what Next itself answers when an action calls redirect(): a
        // 200 with `x-action-redirect`, upon which the browser navigates to the login page.
        const res = new NextResponse(null, { status: 200, headers: { 'x-action-redirect': `${loginTarget(error)};replace`, 'Content-Type': 'text/plain' } });
        res.headers.set('Cache-Control', 'no-store');
        return res;
      }
      if (route.api || !safe) return problem(unauthorizedProblem(r.kind === 'none' && r.presented));
      // Next.js requires an absolute Location here and turns it back into a relative one when it is on
      // the request's own origin, so the browser stays on whatever host name it used. (Not
      // url.clone(): NextURL would carry a trailing slash of the request over to the login path.)
      const res = NextResponse.redirect(new URL(loginTarget(error), url.origin), 307);
      res.headers.set('Cache-Control', 'no-store');
      return res;
    }

    async function runCallback(r: AuthResult, e: Engine | undefined, sec: boolean): Promise<NextResponse> {
      const session = toSession(r);
      let refusal: NextResponse | undefined;
      const authFn = (() => session) as MiddlewareAuth<object>;
      authFn.protect = (o?: ProtectOptions) => {
        if (!session) refusal ??= refuse(r); // no credentials, or Gatehouse down, or misconfigured
        else if (o && !has(session, o)) {
          const detail =
            o.role !== undefined || o.orgRole !== undefined
              ? 'This page needs another role.'
              : o.permission !== undefined
                ? 'This needs a permission you do not have in this organization.'
                : 'The credentials lack a scope this route needs.';
          refusal ??= refuse({ kind: 'lacks', detail });
        }
        if (refusal) throw new ProtectRefusal();
        return session!;
      };
      let out: Response | void | undefined;
      try {
        out = await callback!(authFn, request, event);
      } catch (err) {
        if (!(err instanceof ProtectRefusal) || !refusal) throw err;
      }
      // A refusal stands even when the callback caught protect()'s exception or answered anyway.
      if (refusal) return refusal;
      if (out === undefined || out === null) return pass(forward, r, e, sec);
      if (!(out instanceof Response)) throw new TypeError('gatehouse: a middleware callback must return a Response or nothing');
      return adopt(out, forward, r, e, sec);
    }

    if (route.kind === 'protected' && result.kind !== 'session' && result.kind !== 'api_key') return refuse(result);
    if (callback) return runCallback(result, engine, secure);
    if (result.kind === 'session' || result.kind === 'api_key') return pass(forward, result, engine, secure);
    // Not protected: the request goes on anonymously whatever went wrong (cookies are kept).
    return pass(forward);
  };
}

/** Thrown by protect() to stop the callback; the middleware answers the refusal it recorded. */
class ProtectRefusal extends Error {
  override name = 'GatehouseProtectRefusal';
  constructor() {
    super('gatehouse: protect() refused the request (the middleware answers it; do not catch this)');
  }
}

/**
 * The callback's own response, with what the middleware owes every request: the renewed cookies,
 * and, when the request goes on (`NextResponse.next()` or a rewrite), request headers without any
 * client-sent `x-gatehouse-*` but with the verified identity and the renewed Cookie header.
 */
function adopt(out: Response, forward: Headers, r: AuthResult, engine: Engine | undefined, secure: boolean): NextResponse {
  const res = new NextResponse(out.body, { status: out.status, statusText: out.statusText, headers: out.headers });
  const continues = res.headers.has('x-middleware-next') || res.headers.has('x-middleware-rewrite');
  // What pass() would forward: identity headers and the renewed Cookie header.
  const ours = forwardedHeaders(new Headers(forward), r, engine, secure);
  if (continues) {
    const listed = res.headers.get('x-middleware-override-headers');
    let request: Headers;
    if (listed === null) request = ours;
    else {
      // The callback chose the request headers itself: keep its choice, minus identity headers,
      // plus ours (and the renewed cookies).
      request = new Headers();
      for (const k of listed.split(',').map((x) => x.trim()).filter(Boolean)) {
        const v = res.headers.get(`x-middleware-request-${k}`);
        if (v !== null) request.set(k, v);
      }
      request = stripIdentityHeaders(request);
      ours.forEach((v, k) => {
        if (k.startsWith(IDENTITY_HEADER_PREFIX) || (k === 'cookie' && r.kind === 'session' && r.renewed)) request.set(k, v);
      });
    }
    for (const k of [...res.headers.keys()]) if (k.startsWith('x-middleware-request-')) res.headers.delete(k);
    const keys: string[] = [];
    request.forEach((v, k) => {
      res.headers.set(`x-middleware-request-${k}`, v);
      keys.push(k);
    });
    res.headers.set('x-middleware-override-headers', keys.join(','));
  }
  if (r.kind === 'session' && r.renewed && engine) {
    const names = engine.names(secure);
    const attrs = cookieAttributes(engine.cfg, secure);
    res.cookies.set(names.access, r.renewed.access_token, attrs);
    res.cookies.set(names.refresh, r.renewed.refresh_token, attrs);
    res.headers.set('Cache-Control', 'private, no-store');
  }
  return res;
}

function problem(p: ProblemInit): NextResponse {
  return new NextResponse(JSON.stringify(problemBody(p)), { status: p.status, headers: problemHeaders(p) });
}

/** The forwarded request headers, with the verified identity (and the renewed Cookie header). */
function forwardedHeaders(forward: Headers, result?: AuthResult, engine?: Engine, secure = false): Headers {
  if (result?.kind === 'session') {
    const c = result.claims;
    forward.set(IdentityHeaders.auth, 'session');
    forward.set(IdentityHeaders.userId, headerSafe(c.sub));
    if (typeof c.email === 'string') forward.set(IdentityHeaders.email, headerSafe(c.email));
    if (typeof c.role === 'string') forward.set(IdentityHeaders.role, headerSafe(c.role));
    if (typeof c.sid === 'string') forward.set(IdentityHeaders.sessionId, headerSafe(c.sid));
    if (result.renewed && engine) {
      const names = engine.names(secure);
      // The page renders with the new tokens (the forwarded Cookie header).
      forward.set(
        'cookie',
        replaceCookies(forward.get('cookie'), { [names.access]: result.renewed.access_token, [names.refresh]: result.renewed.refresh_token }),
      );
    }
  } else if (result?.kind === 'api_key') {
    const r = result.introspection;
    forward.set(IdentityHeaders.auth, 'api_key');
    forward.set(IdentityHeaders.userId, headerSafe(r.sub ?? ''));
    if (r.email) forward.set(IdentityHeaders.email, headerSafe(r.email));
    if (r.role) forward.set(IdentityHeaders.role, headerSafe(r.role));
    if (r.key_id) forward.set(IdentityHeaders.keyId, headerSafe(r.key_id));
    forward.set(IdentityHeaders.scope, headerSafe(result.scopes.join(' ')));
  }
  return forward;
}

/** Lets the request through, with the verified identity (and renewed cookies) attached. */
function pass(forward: Headers, result?: AuthResult, engine?: Engine, secure = false): NextResponse {
  const res = NextResponse.next({ request: { headers: forwardedHeaders(forward, result, engine, secure) } });
  if (result?.kind === 'session' && result.renewed && engine) {
    // ... and the browser stores them (Set-Cookie on the response).
    const names = engine.names(secure);
    const attrs = cookieAttributes(engine.cfg, secure);
    res.cookies.set(names.access, result.renewed.access_token, attrs);
    res.cookies.set(names.refresh, result.renewed.refresh_token, attrs);
    res.headers.set('Cache-Control', 'private, no-store');
  }
  return res;
}

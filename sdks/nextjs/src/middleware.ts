// `@gatehouse/next-sdk/middleware`: protects pages and API routes in front of the app.
// Web APIs, `next/server` and `jose` only: it runs on the Edge runtime (middleware.ts) and on the
// Node.js runtime (Next 16's proxy.ts) alike.
import { NextResponse, type NextRequest } from 'next/server.js';
import type { GatehouseOptions } from './config.js';
import { GatehouseConfigError } from './config.js';
import { cookieAttributes, replaceCookies } from './cookies.js';
import { Engine, type AuthResult } from './core.js';
import { asciiHeader, headerSafe, IdentityHeaders, stripIdentityHeaders } from './identity.js';
import { originVerdict } from './origin.js';
import { classifyPath, compileRules, relativeTarget, sdkPublicPaths } from './paths.js';
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

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Creates the middleware. Use it as the guide shows, in `middleware.ts`:
 *
 * ```ts
 * export const middleware = createMiddleware({ apiKey: process.env.GATEHOUSE_API_KEY!, protectedPaths: ['/dashboard'], loginPath: '/login' });
 * ```
 * or as `export default createMiddleware({...})` in Next 16's `proxy.ts`.
 */
export function createMiddleware(options: MiddlewareOptions): GatehouseMiddleware {
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

  return async function gatehouseMiddleware(request: NextRequest): Promise<NextResponse> {
    const url = request.nextUrl;
    // Identity headers are ours alone: drop whatever the client sent under that prefix.
    const forward = stripIdentityHeaders(request.headers);
    const target = relativeTarget(url.pathname, url.search);
    forward.set(IdentityHeaders.path, asciiHeader(target));

    const route = classifyPath(url.pathname, rules);
    if (route.kind === 'public') return pass(forward);

    try {
      engine ??= new Engine({ ...options, loginPath }, ttl);
    } catch (e) {
      if (e instanceof GatehouseConfigError) {
        console.error(e.message);
        return route.kind === 'protected' ? problem(misconfiguredProblem()) : pass(forward);
      }
      throw e;
    }

    const method = request.method.toUpperCase();
    const safe = SAFE_METHODS.has(method);
    // A Server Action is a POST with a `Next-Action` header, answered to Next's action client.
    const action = method === 'POST' && request.headers.has('next-action');
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

    if (result.kind === 'session' || result.kind === 'api_key') {
      return pass(forward, result, engine, secure);
    }
    if (route.kind === 'open') {
      // Not protected: the request goes on anonymously whatever went wrong (cookies are kept).
      return pass(forward);
    }
    if (result.kind === 'misconfigured') return problem(misconfiguredProblem(result.error.message)); // logged by the client
    if (result.kind === 'unavailable') {
      console.error(`gatehouse: authentication unavailable: ${(result.error as Error)?.message ?? result.error}`);
      return problem(unavailableProblem());
    }
    if (result.kind === 'forbidden') return problem(forbiddenProblem(result.detail));
    // No valid credentials.
    const loginTarget = `${url.basePath || ''}${withQuery(loginPath, { callbackUrl: target })}`;
    if (action && !route.api) {
      // Next's action client cannot use a 401 problem document, and it follows an HTTP redirect
      // with fetch(). It understands what Next itself answers when an action calls redirect(): a
      // 200 with `x-action-redirect`, upon which the browser navigates to the login page.
      const res = new NextResponse(null, { status: 200, headers: { 'x-action-redirect': `${loginTarget};replace`, 'Content-Type': 'text/plain' } });
      res.headers.set('Cache-Control', 'no-store');
      return res;
    }
    if (route.api || !safe) return problem(unauthorizedProblem(result.presented));
    // Next.js requires an absolute Location here and turns it back into a relative one when it is on
    // the request's own origin, so the browser stays on whatever host name it used. (Not
    // url.clone(): NextURL would carry a trailing slash of the request over to the login path.)
    const login = new URL(loginTarget, url.origin);
    const res = NextResponse.redirect(login, 307);
    res.headers.set('Cache-Control', 'no-store');
    return res;
  };
}

function problem(p: ProblemInit): NextResponse {
  return new NextResponse(JSON.stringify(problemBody(p)), { status: p.status, headers: problemHeaders(p) });
}

/** Lets the request through, with the verified identity (and renewed cookies) attached. */
function pass(forward: Headers, result?: AuthResult, engine?: Engine, secure = false): NextResponse {
  if (result?.kind === 'session') {
    const c = result.claims;
    forward.set(IdentityHeaders.auth, 'session');
    forward.set(IdentityHeaders.userId, headerSafe(c.sub));
    if (typeof c.email === 'string') forward.set(IdentityHeaders.email, headerSafe(c.email));
    if (typeof c.role === 'string') forward.set(IdentityHeaders.role, headerSafe(c.role));
    if (typeof c.sid === 'string') forward.set(IdentityHeaders.sessionId, headerSafe(c.sid));
    if (result.renewed && engine) {
      const names = engine.names(secure);
      // The page renders with the new tokens (the forwarded Cookie header) ...
      forward.set(
        'cookie',
        replaceCookies(forward.get('cookie'), { [names.access]: result.renewed.access_token, [names.refresh]: result.renewed.refresh_token }),
      );
      const res = NextResponse.next({ request: { headers: forward } });
      // ... and the browser stores them (Set-Cookie on the response).
      const attrs = cookieAttributes(engine.cfg, secure);
      res.cookies.set(names.access, result.renewed.access_token, attrs);
      res.cookies.set(names.refresh, result.renewed.refresh_token, attrs);
      res.headers.set('Cache-Control', 'private, no-store');
      return res;
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
  return NextResponse.next({ request: { headers: forward } });
}

// `@gatehouse/next-sdk/server`: re-verification inside Route Handlers, Server Components and
// Server Actions, and the route handlers that sign users in and out and set the cookies.
// Server-only: it reads next/headers and must never be imported from a Client Component.
// It loads from plain Node ESM (the Pages Router's server imports external packages so): `next/*`
// specifiers carry `.js` (next has no exports map), and next/headers and next/navigation, which only
// the App Router helpers need, are imported when those helpers run.
import { cache } from 'react';
import { connection, NextResponse, type NextRequest } from 'next/server.js';
import {
  GatehouseResponseError,
  GatehouseUnavailableError,
  type ClientInfo,
  type GatehouseUserObject,
  type TokenResponse,
} from './client.js';
import { GatehouseConfigError, type GatehouseOptions } from './config.js';
import { clearSessionCookies, cookieAttributes, parseCookieHeader, setSessionCookies } from './cookies.js';
import { has, orgOf, toSession as baseSession } from './access.js';
import { Engine, type AuthResult } from './core.js';
import { IdentityHeaders } from './identity.js';
import { createMiddleware, type GatehouseMiddleware, type MiddlewareCallback, type MiddlewareOptions } from './middleware.js';
import { originVerdict, requestOrigin } from './origin.js';
import { safeRedirect, withQuery } from './redirect.js';
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

export { safeRedirect } from './redirect.js';
export { createRouteMatcher, type MiddlewareAuth, type MiddlewareCallback, type ProtectOptions, type RouteMatcherParam } from './middleware.js';
export { GatehouseUnavailableError, GatehouseResponseError } from './client.js';
export type { GatehouseUserObject, TokenResponse, Introspection } from './client.js';
export type { AccessClaims } from './verify.js';

export type { GatehouseSession, GatehouseOrg, GatehouseActor } from './session.js';

export interface ServerOptions extends GatehouseOptions {
  /** Where signed-in users land when no (valid) callbackUrl is given. Default `/`. */
  afterLoginPath?: string;
  /** Where users land after sign-out when no (valid) callbackUrl is given. Default `/`. */
  afterLogoutPath?: string;
  /** Public base URL of this app, for OAuth redirect URIs. Default `process.env.GATEHOUSE_APP_URL`, else the request's origin. */
  appUrl?: string;
  /** Extra origins allowed to POST to the auth route handlers (same origin is always allowed). */
  trustedOrigins?: string[];
  /** Seconds an introspection answer is reused. Default 5. */
  introspectionCacheSeconds?: number;
}

/**
 * The one configuration of an app: what createGatehouse() takes. The middleware, the server helpers
 * and the route handlers it returns all read it, so that they cannot disagree (about loginPath,
 * cookie names, the app key, ...).
 */
export interface GatehouseConfig extends ServerOptions, Partial<Omit<MiddlewareOptions, keyof ServerOptions>> {}

export interface AuthOptions {
  /** Use this request's headers instead of next/headers (Route Handlers may pass their `request`). */
  request?: Request;
  /** Also ask Gatehouse whether the session is still live (sees a sign-out elsewhere at once; one call, cached 5 s). */
  introspect?: boolean;
  /** Accept machine API keys (X-API-Key / Bearer ak_...). Default true. */
  allowApiKey?: boolean;
  /** Scopes an API key must have; otherwise auth() answers null. */
  apiKeyScopes?: string[];
}

/**
 * What getAuth() reads: a Node.js IncomingMessage, as the Pages Router hands it to
 * getServerSideProps (`context.req`) and to API routes (`NextApiRequest`).
 */
export interface NodeRequestLike {
  headers: Record<string, string | string[] | undefined>;
  url?: string;
  socket?: object | null;
}

/** Options of getAuth(): those of auth() but `request` (getAuth reads the request it is given). */
export type GetAuthOptions = Omit<AuthOptions, 'request'>;

export interface RequireUserOptions extends AuthOptions {
  /** Where to come back after signing in. Default: the path the middleware saw, else none. */
  callbackUrl?: string;
  /** Role(s) the user must have (any of them). A signed-in user without it is sent to the login
   * page with `error=forbidden` (to sign in as someone else). */
  role?: string | string[];
  /** Role(s) in the active organization the user must have (any of them), as `role`. */
  orgRole?: string | string[];
  /** Permission(s) in the active organization the user must have (all of them), as `role`. */
  permission?: string | string[];
}

export { has, type HasOptions } from './access.js';

/** What Next.js passes a Route Handler as its second argument (the dynamic segments). */
export type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };
/**
 * A Route Handler. Its second parameter is typed `any` on purpose: Next 15.5's build check wants
 * exactly the route's own `{ params: Promise<...> }` there (an optional `context?: RouteContext`
 * fails with "Expected RouteContext, got RouteContext | undefined"), Next 16's wants a type that
 * accepts it, and the handlers can also be called with the request alone. `any` satisfies both.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RouteHandler = (request: NextRequest, context?: any) => Promise<Response>;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type AuthedRouteHandler<Claims extends object = {}> = (request: NextRequest, session: GatehouseSession<Claims>, context: RouteContext) => Response | Promise<Response>;

/**
 * `gatehouse.middleware` (and `gatehouse.proxy`): the middleware itself (`export const middleware =
 * gatehouse.middleware`), or, given a callback, a middleware that runs it after authenticating the
 * request (`export const middleware = gatehouse.middleware((auth, req) => { if (isProtected(req)) auth.protect(); })`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface GatehouseMiddlewareFactory<Claims extends object = {}> {
  (request: NextRequest, event?: unknown): Promise<NextResponse>;
  (callback: MiddlewareCallback<Claims>): GatehouseMiddleware;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Gatehouse<Claims extends object = {}> {
  /** The middleware for `middleware.ts`: `export const middleware = gatehouse.middleware` (Edge or Node.js runtime). */
  middleware: GatehouseMiddlewareFactory<Claims>;
  /** The same function for Next 16's `proxy.ts`: `export default gatehouse.proxy` (or `gatehouse.proxy((auth, req) => …)`). */
  proxy: GatehouseMiddlewareFactory<Claims>;
  /** The verified identity of the current request, or null. Throws GatehouseUnavailableError when Gatehouse (its JWKS) cannot be reached. */
  auth(options?: AuthOptions): Promise<GatehouseSession<Claims> | null>;
  /**
   * auth() for the Pages Router: the verified identity of a Node.js request (getServerSideProps'
   * `context.req`, an API route's `req`) from its cookies and Authorization / X-API-Key headers, or
   * null. Never renews an expired session (it cannot set cookies there): the middleware does.
   */
  getAuth(req: NodeRequestLike, options?: GetAuthOptions): Promise<GatehouseSession<Claims> | null>;
  /** Like auth(), but redirects to the login page (with callbackUrl) when there is no valid session (or it lacks `role`). */
  requireUser(options?: RequireUserOptions): Promise<GatehouseSession<Claims>>;
  /** The signed-in user of the current request (from next/headers), or null; verified once per request. */
  currentUser(): Promise<GatehouseSession['user'] | null>;
  /** Wraps a Route Handler: 401/403/503 problem+json unless the request is authenticated. */
  withAuth(handler: AuthedRouteHandler<Claims>, options?: Omit<AuthOptions, 'request'>): RouteHandler;
  /** The full user object from Gatehouse (GET /api/v1/users/me) for a user session. */
  getProfile(session: GatehouseSession<object>): Promise<GatehouseUserObject>;
  /** The verified access token of the current request's user session (server-side only), or null. */
  getToken(options?: AuthOptions): Promise<string | null>;
  /** `export const { GET, POST } = handlers` in `app/api/auth/[...gatehouse]/route.ts`. */
  handlers: { GET: RouteHandler; POST: RouteHandler };
  /** POST: email + password (form or JSON) → cookies set; forms are redirected to callbackUrl. */
  login: RouteHandler;
  /** POST: email + password + name (form or JSON) → account created, cookies set. */
  register: RouteHandler;
  /** POST: revokes the session at Gatehouse and clears the cookies. */
  logout: RouteHandler;
  /** POST: renews the session from the refresh cookie (for client-side code after a 401). */
  refresh: RouteHandler;
  /** GET: `{ user }` of the current session, or 401. */
  session: RouteHandler;
  /**
   * POST `{ org_id }` (JSON, or a form with an optional callbackUrl): makes it the session's active
   * organization at Gatehouse (`POST /api/v1/users/me/active-org`; `""` leaves none) and renews the
   * session cookies with the token that carries it. Same-site only, like the other POST handlers.
   */
  switchOrg: RouteHandler;
  /** GET …/oauth/{provider}?callbackUrl=: starts an OAuth sign-in at Gatehouse. */
  oauthStart: RouteHandler;
  /** GET …/callback/{provider}?code=&state=: finishes it and sets the cookies. */
  oauthCallback: RouteHandler;
}

const PROVIDER_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Everything from one configuration (defaults come from GATEHOUSE_* variables): the middleware
 * (and Next 16 proxy), the server helpers and the route handlers. Create it once, in a module of
 * your own (`gatehouse.ts`), and import from there in `middleware.ts`/`proxy.ts`, pages, actions
 * and route handlers.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export function createGatehouse<Claims extends object = {}>(options: GatehouseConfig = {}): Gatehouse<Claims> {
  // Checks the path rules now (a typo fails the build); the rest waits for the first request.
  const middlewareOptions: MiddlewareOptions = { ...options, apiKey: options.apiKey as string, protectedPaths: options.protectedPaths ?? [] };
  const plain = createMiddleware(middlewareOptions);
  // Called by Next.js with a request, it is the middleware; called by the app with a callback, it
  // makes a middleware that runs the callback, from the same configuration.
  const middleware = ((arg: NextRequest | MiddlewareCallback<Claims>, event?: unknown) =>
    typeof arg === 'function'
      ? createMiddleware(middlewareOptions, arg as MiddlewareCallback<object>)
      : plain(arg, event)) as GatehouseMiddlewareFactory<Claims>;
  let engine: Engine | undefined;
  const getEngine = (): Engine => (engine ??= new Engine(options, (options.introspectionCacheSeconds ?? 5) * 1000));
  const afterLogin = options.afterLoginPath ?? '/';
  const afterLogout = options.afterLogoutPath ?? '/';

  async function requestHeaders(o?: AuthOptions): Promise<Headers> {
    if (o?.request) return o.request.headers;
    // Cache Components (on by default in new Next 16 apps): mark the render as dynamic before
    // reading request data or the clock (token expiry), or Next logs prerender errors.
    await connection();
    const { headers } = await import('next/headers.js');
    const h = new Headers(await headers());
    if (!h.has(IdentityHeaders.path)) warnNoMiddleware();
    return h;
  }

  async function authenticate(h: Headers, o: AuthOptions | undefined, url?: URL, fromNextHeaders = !o?.request): Promise<AuthResult> {
    const e = getEngine();
    const secure = e.secure(h, url ?? (o?.request ? new URL(o.request.url) : undefined));
    const creds = e.credentials(h, secure);
    if (fromNextHeaders) {
      // next/headers' cookies() also sees cookies the middleware renewed for this request.
      const { cookies } = await import('next/headers.js');
      const jar = await cookies();
      const names = e.names(secure);
      const access = jar.get(names.access)?.value;
      const refresh = jar.get(names.refresh)?.value;
      if (access) creds.access = access;
      if (refresh) creds.refresh = refresh;
    }
    return e.authenticate(creds, {
      allowApiKey: o?.allowApiKey ?? true,
      requiredScopes: o?.apiKeyScopes,
      allowRefresh: false,
      introspectSessions: o?.introspect,
    });
  }

  function sessionOrThrow(r: AuthResult): GatehouseSession | null {
    if (r.kind === 'misconfigured') throw r.error;
    if (r.kind === 'unavailable') {
      throw r.error instanceof GatehouseUnavailableError ? r.error : new GatehouseUnavailableError('gatehouse: cannot verify the session', { cause: r.error });
    }
    return toSession(r);
  }

  async function auth(o?: AuthOptions): Promise<GatehouseSession | null> {
    return sessionOrThrow(await authenticate(await requestHeaders(o), o));
  }

  async function getAuth(req: NodeRequestLike, o?: GetAuthOptions): Promise<GatehouseSession | null> {
    const h = nodeHeaders(req);
    const encrypted = (req.socket as { encrypted?: unknown } | null | undefined)?.encrypted === true;
    let url: URL | undefined;
    try {
      url = new URL(req.url ?? '/', `${encrypted ? 'https' : 'http'}://${h.get('host') || 'localhost'}`);
    } catch {
      url = undefined;
    }
    // getServerSideProps and API routes cannot renew the session: authenticate() never refreshes
    // for the server helpers; the middleware renews on the way in.
    return sessionOrThrow(await authenticate(h, { ...o }, url, false));
  }

  async function requireUser(o?: RequireUserOptions): Promise<GatehouseSession> {
    const s = await auth(o);
    if (s && has(s, { role: o?.role, orgRole: o?.orgRole, permission: o?.permission })) return s;
    const h = await requestHeaders(o);
    const cb = safeRedirect(o?.callbackUrl ?? h.get(IdentityHeaders.path) ?? '', '');
    const login = getEngine().cfg.loginPath;
    const { redirect } = await import('next/navigation.js');
    return redirect(withQuery(login, { error: s ? 'forbidden' : undefined, callbackUrl: cb }));
  }

  // One verification per request for currentUser(): React's cache() memoises per server request
  // (in Server Components; elsewhere it simply calls through).
  const cachedAuth = cache(() => auth());
  async function currentUser(): Promise<GatehouseSession['user'] | null> {
    return (await cachedAuth())?.user ?? null;
  }

  function withAuth(handler: AuthedRouteHandler<Claims>, o?: Omit<AuthOptions, 'request'>): RouteHandler {
    return async (request, context) => {
      let r: AuthResult;
      try {
        r = await authenticate(request.headers, { ...o, request });
      } catch (e) {
        return configFailure(e);
      }
      if (r.kind === 'misconfigured') return problem(misconfiguredProblem(r.error.message));
      if (r.kind === 'unavailable') return problem(unavailableProblem());
      if (r.kind === 'forbidden') return problem(forbiddenProblem(r.detail));
      const s = toSession(r);
      if (!s) return problem(unauthorizedProblem(r.kind === 'none' && r.presented));
      return handler(request, s as GatehouseSession<Claims>, context ?? { params: Promise.resolve({}) });
    };
  }

  async function getProfile(s: GatehouseSession<object>): Promise<GatehouseUserObject> {
    const token = sessionTokens.get(s);
    if (s.kind !== 'session' || !token) throw new TypeError('gatehouse: getProfile needs a user session returned by auth()');
    return getEngine().client.me(token);
  }

  async function getToken(o?: AuthOptions): Promise<string | null> {
    const s = await auth({ ...o, allowApiKey: false });
    return (s && sessionTokens.get(s)) ?? null;
  }

  // ---- route handlers ----

  function clientInfo(request: Request): ClientInfo {
    return { userAgent: request.headers.get('user-agent'), forwardedFor: request.headers.get('x-forwarded-for') };
  }

  /** This app's public origin: appUrl when configured, else what the browser used (Host /
   * X-Forwarded-Host and X-Forwarded-Proto, which Next.js fills in), else Next's own idea. */
  function appOrigin(request: NextRequest): string {
    const configured = options.appUrl ?? envAppUrl();
    if (configured) return new URL(configured).origin;
    return requestOrigin(request);
  }

  /** CSRF defence for the POST handlers: browsers send Origin (and Sec-Fetch-Site) on POSTs; a
   * cross-site form must not sign a victim in or out. Clients without either header (curl) pass. */
  function crossSite(request: NextRequest): boolean {
    const extra = [...(options.trustedOrigins ?? [])];
    const configured = options.appUrl ?? envAppUrl();
    if (configured) extra.push(new URL(configured).origin);
    return originVerdict(request, extra) === 'cross';
  }

  async function readInput(request: Request): Promise<{ form: boolean; data: Record<string, string> }> {
    const ct = (request.headers.get('content-type') ?? '').toLowerCase();
    if (ct.startsWith('application/json')) {
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return { form: false, data: {} };
      }
      const data: Record<string, string> = {};
      if (body && typeof body === 'object') {
        for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') data[k] = v;
      }
      return { form: false, data };
    }
    if (ct.startsWith('application/x-www-form-urlencoded') || ct.startsWith('multipart/form-data')) {
      const data: Record<string, string> = {};
      try {
        const fd = await request.formData();
        fd.forEach((v, k) => {
          if (typeof v === 'string' && !(k in data)) data[k] = v;
        });
      } catch {
        /* empty form */
      }
      return { form: true, data };
    }
    return { form: false, data: {} };
  }

  function loginErrorRedirect(request: NextRequest, error: string, callbackUrl: string | undefined): NextResponse {
    const cb = safeRedirect(callbackUrl, '');
    return redirectTo(request, withQuery(getEngine().cfg.loginPath, { error, callbackUrl: cb }), 303);
  }

  function errorCodeFor(e: unknown): string {
    if (e instanceof GatehouseResponseError) {
      if (e.status === 401) return 'invalid_credentials';
      if (e.status === 403) return 'forbidden';
      if (e.status === 409) return 'email_taken';
      if (e.status === 422) return 'invalid_input';
      if (e.status === 429) return 'rate_limited';
      return 'failed';
    }
    return 'unavailable';
  }

  function gatehouseErrorResponse(e: unknown): Response {
    if (e instanceof GatehouseResponseError) {
      const h = problemHeaders({ status: e.status, error_code: '', detail: '' });
      if (e.retryAfter) h.set('Retry-After', e.retryAfter);
      if (e.status === 401) h.set('WWW-Authenticate', 'Bearer realm="gatehouse"');
      return new NextResponse(JSON.stringify(e.problem), { status: e.status, headers: h });
    }
    if (e instanceof GatehouseUnavailableError) return problem(unavailableProblem());
    return configFailure(e);
  }

  function signedIn(request: NextRequest, form: boolean, tokens: TokenResponse, callbackUrl: string | undefined, status = 200): Response {
    const e = getEngine();
    const secure = e.secure(request.headers, request.nextUrl);
    const res = form
      ? redirectTo(request, safeRedirect(callbackUrl, afterLogin), 303)
      : NextResponse.json({ user: tokens.user, expires_in: tokens.expires_in }, { status });
    setSessionCookies(res.cookies, e.cfg, secure, tokens);
    return noStore(res);
  }

  /**
   * A route handler that runs with the engine, after refusing cross-site requests when the route
   * changes state; a configuration error is answered as configFailure explains it.
   */
  function withEngine(handler: (request: NextRequest, e: Engine) => Promise<Response>, sameSiteOnly = false): RouteHandler {
    return async (request) => {
      if (sameSiteOnly && crossSite(request)) {
        return problem({ status: 403, error_code: 'cross_site_request', detail: 'Cross-site requests are not accepted.' });
      }
      let e: Engine;
      try {
        e = getEngine();
      } catch (err) {
        return configFailure(err);
      }
      return handler(request, e);
    };
  }

  async function credentialsFlow(request: NextRequest, e: Engine, kind: 'login' | 'register'): Promise<Response> {
    const { form, data } = await readInput(request);
    const email = data.email ?? data.username ?? '';
    const password = data.password ?? '';
    try {
      const tokens =
        kind === 'login'
          ? await e.client.login(email, password, clientInfo(request))
          : await e.client.register(email, password, data.name ?? '', clientInfo(request));
      return signedIn(request, form, tokens, data.callbackUrl, kind === 'register' ? 201 : 200);
    } catch (err) {
      if (!(err instanceof GatehouseResponseError || err instanceof GatehouseUnavailableError)) throw err;
      if (err instanceof GatehouseUnavailableError) console.error(err.message);
      if (form) return loginErrorRedirect(request, errorCodeFor(err), data.callbackUrl);
      return gatehouseErrorResponse(err);
    }
  }

  const login = withEngine((request, e) => credentialsFlow(request, e, 'login'), true);
  const register = withEngine((request, e) => credentialsFlow(request, e, 'register'), true);

  const logout = withEngine(async (request, e) => {
    const { form, data } = await readInput(request);
    const secure = e.secure(request.headers, request.nextUrl);
    const creds = e.credentials(request.headers, secure);
    // Revoke the session at Gatehouse. That needs a live access token: when the cookie one has
    // expired, renew first with the refresh cookie (which logout then revokes with everything else).
    let revoked = false;
    let token: string | undefined;
    const v = await e.verify(creds.bearer ?? creds.access);
    if (v.ok) token = creds.bearer ?? creds.access;
    else if (creds.refresh) {
      const r = await e.renew(creds.refresh, clientInfo(request));
      if (r.kind === 'session') token = r.accessToken;
    }
    if (token) {
      try {
        await e.client.logout(token, clientInfo(request));
        revoked = true;
      } catch (err) {
        console.error(`gatehouse: sign-out could not revoke the session: ${(err as Error).message}`);
      }
    }
    const res = form
      ? redirectTo(request, safeRedirect(data.callbackUrl, afterLogout), 303)
      : NextResponse.json({ signed_out: true, revoked });
    clearSessionCookies(res.cookies, e.cfg, secure);
    return noStore(res);
  }, true);

  const refresh = withEngine(async (request, e) => {
    const secure = e.secure(request.headers, request.nextUrl);
    const creds = e.credentials(request.headers, secure);
    if (!creds.refresh) return problem(unauthorizedProblem(false, 'No session to renew.'));
    const r = await e.renew(creds.refresh, clientInfo(request));
    if (r.kind === 'unavailable') return problem(unavailableProblem());
    if (r.kind !== 'session' || !r.renewed) return problem(unauthorizedProblem(true, 'The session cannot be renewed; sign in again.'));
    const res = NextResponse.json({ user: r.renewed.user, expires_in: r.renewed.expires_in });
    setSessionCookies(res.cookies, e.cfg, secure, r.renewed);
    return noStore(res);
  }, true);

  const session: RouteHandler = async (request) => {
    let r: AuthResult;
    try {
      r = await authenticate(request.headers, { request, allowApiKey: false });
    } catch (err) {
      return configFailure(err);
    }
    if (r.kind === 'misconfigured') return problem(misconfiguredProblem(r.error.message));
    if (r.kind === 'unavailable') return problem(unavailableProblem());
    const s = toSession(r);
    if (!s) return problem(unauthorizedProblem(r.kind === 'none' && r.presented));
    return noStore(NextResponse.json({ user: s.user, org: s.org ?? null, actor: s.actor ?? null, expires_at: s.expiresAt?.toISOString() ?? null }));
  };

  const ORG_ID_MAX = 128;
  const switchOrg = withEngine(async (request, e) => {
    const { form, data } = await readInput(request);
    const orgId = data.org_id;
    const back = (error?: string) => redirectTo(request, withQuery(safeRedirect(data.callbackUrl, afterLogin), { error }), 303);
    if (typeof orgId !== 'string' || orgId.length > ORG_ID_MAX || /[\u0000-\u001f\u007f]/.test(orgId)) {
      return form ? back('invalid_org') : problem({ status: 400, error_code: 'invalid_org', detail: 'Send org_id: an organization id, or "" for none.' });
    }
    // Only the browser's cookie session is switched: a Bearer caller talks to Gatehouse itself.
    const secure = e.secure(request.headers, request.nextUrl);
    const creds = e.credentials(request.headers, secure);
    let token: string | undefined;
    let renewed: TokenResponse | undefined;
    const v = await e.verify(creds.access);
    if (v.ok) token = creds.access;
    else if (v.reason === 'unavailable') return form ? back('unavailable') : problem(unavailableProblem());
    else if (creds.refresh) {
      const r = await e.renew(creds.refresh, clientInfo(request));
      if (r.kind === 'unavailable') return form ? back('unavailable') : problem(unavailableProblem());
      if (r.kind === 'session') ({ accessToken: token, renewed } = r);
    }
    if (!token) return form ? loginErrorRedirect(request, 'session_expired', data.callbackUrl) : problem(unauthorizedProblem(false, 'No session to switch.'));
    let answer: Awaited<ReturnType<typeof e.client.switchActiveOrg>>;
    try {
      answer = await e.client.switchActiveOrg(token, orgId, clientInfo(request));
    } catch (err) {
      if (!(err instanceof GatehouseResponseError || err instanceof GatehouseUnavailableError)) throw err;
      if (err instanceof GatehouseUnavailableError) console.error(err.message);
      // A refresh that happened on the way is kept whatever Gatehouse said about the organization.
      const res = form ? back(err instanceof GatehouseUnavailableError ? 'unavailable' : 'org_switch_refused') : gatehouseErrorResponse(err);
      if (renewed) setSessionCookies((res as NextResponse).cookies, e.cfg, secure, renewed);
      return noStore(res);
    }
    // The new access token carries the organization; the session's earlier ones no longer work.
    // Without one in the answer, the refresh token gets one (the session remembers its organization).
    let access = typeof answer.access_token === 'string' ? answer.access_token : undefined;
    let refreshToken = typeof answer.refresh_token === 'string' ? answer.refresh_token : (renewed?.refresh_token ?? creds.refresh);
    if (!access && refreshToken) {
      const r = await e.renew(refreshToken, clientInfo(request));
      if (r.kind === 'session' && r.renewed) ({ access_token: access, refresh_token: refreshToken } = r.renewed);
    }
    const checked = await e.verify(access);
    if (!checked.ok || !access || !refreshToken) {
      // Switched at Gatehouse, but no usable token came back: sign in again rather than keep a dead cookie.
      return form ? loginErrorRedirect(request, 'session_expired', data.callbackUrl) : problem(unauthorizedProblem(true, 'The session could not be renewed after the switch; sign in again.'));
    }
    const org = orgOf(checked.claims) ?? null;
    const res = form ? back() : NextResponse.json({ org, expires_in: Math.max(0, checked.claims.exp - Math.floor(Date.now() / 1000)) });
    const jar = (res as NextResponse).cookies;
    const names = e.names(secure);
    jar.set(names.access, access, cookieAttributes(e.cfg, secure));
    jar.set(names.refresh, refreshToken, cookieAttributes(e.cfg, secure));
    return noStore(res);
  }, true);

  /** The handlers' mount point and the provider, from `…/oauth/{provider}` or `…/callback/{provider}`. */
  function oauthPath(request: NextRequest, segment: 'oauth' | 'callback'): { base: string; provider: string } | null {
    const parts = request.nextUrl.pathname.split('/');
    let provider: string;
    try {
      provider = decodeURIComponent(parts[parts.length - 1] ?? '').toLowerCase();
    } catch {
      return null; // a malformed percent-escape: 404, never a 500
    }
    if (parts[parts.length - 2] !== segment || !PROVIDER_RE.test(provider)) return null;
    return { base: parts.slice(0, -2).join('/'), provider };
  }

  const oauthStart = withEngine(async (request, e) => {
    const p = oauthPath(request, 'oauth');
    if (!p) return problem({ status: 404, error_code: 'not_found', detail: 'Unknown sign-in provider.' });
    const callbackUrl = safeRedirect(request.nextUrl.searchParams.get('callbackUrl'), '');
    const redirectUri = `${appOrigin(request)}${p.base}/callback/${p.provider}`;
    let start: { authorization_url: string; state: string };
    try {
      start = await e.client.oauthAuthorize(p.provider, redirectUri);
    } catch (err) {
      if (err instanceof GatehouseUnavailableError) console.error(err.message);
      return loginErrorRedirect(request, err instanceof GatehouseUnavailableError ? 'unavailable' : 'oauth_failed', callbackUrl);
    }
    const secure = e.secure(request.headers, request.nextUrl);
    const res = NextResponse.redirect(start.authorization_url, 302);
    // Binds the state to this browser (no login CSRF) and carries callbackUrl across the round trip.
    const value = btoaUrl(JSON.stringify({ s: start.state, p: p.provider, c: callbackUrl }));
    res.cookies.set(e.names(secure).oauth, value, cookieAttributes(e.cfg, secure, 600));
    return noStore(res);
  });

  const oauthCallback = withEngine(async (request, e) => {
    const p = oauthPath(request, 'callback');
    if (!p) return problem({ status: 404, error_code: 'not_found', detail: 'Unknown sign-in provider.' });
    const secure = e.secure(request.headers, request.nextUrl);
    const names = e.names(secure);
    const raw = parseCookieHeader(request.headers.get('cookie')).get(names.oauth);
    let saved: { s?: unknown; p?: unknown; c?: unknown } = {};
    try {
      saved = raw ? JSON.parse(atobUrl(raw)) : {};
    } catch {
      saved = {};
    }
    const q = request.nextUrl.searchParams;
    const state = q.get('state') ?? '';
    const code = q.get('code') ?? '';
    const callbackUrl = typeof saved.c === 'string' ? saved.c : undefined;
    const fail = (error: string) => {
      const res = loginErrorRedirect(request, error, callbackUrl);
      res.cookies.set(names.oauth, '', cookieAttributes(e.cfg, secure, 0));
      return res;
    };
    if (q.get('error')) return fail('oauth_denied');
    if (!code || !state || typeof saved.s !== 'string' || saved.p !== p.provider || !timingSafeEqual(saved.s, state)) return fail('oauth_state');
    const redirectUri = `${appOrigin(request)}${p.base}/callback/${p.provider}`;
    let tokens: TokenResponse;
    try {
      tokens = await e.client.oauthCallback(p.provider, code, redirectUri, state, clientInfo(request));
    } catch (err) {
      if (err instanceof GatehouseUnavailableError) {
        console.error(err.message);
        return fail('unavailable');
      }
      if (err instanceof GatehouseResponseError) return fail(err.status === 409 ? 'oauth_account_conflict' : 'oauth_failed');
      throw err;
    }
    const res = redirectTo(request, safeRedirect(callbackUrl, afterLogin), 303);
    setSessionCookies(res.cookies, e.cfg, secure, tokens);
    res.cookies.set(names.oauth, '', cookieAttributes(e.cfg, secure, 0));
    return noStore(res);
  });

  /** Dispatches on the last path segments, wherever the catch-all route is mounted. */
  const GET: RouteHandler = async (request, context) => {
    const parts = request.nextUrl.pathname.split('/');
    const last = parts[parts.length - 1];
    const prev = parts[parts.length - 2];
    if (prev === 'oauth') return oauthStart(request, context);
    if (prev === 'callback') return oauthCallback(request, context);
    if (last === 'session') return session(request, context);
    return problem({ status: 404, error_code: 'not_found', detail: 'Not found.' });
  };
  const POST: RouteHandler = async (request, context) => {
    const last = request.nextUrl.pathname.split('/').pop();
    if (last === 'login') return login(request, context);
    if (last === 'register') return register(request, context);
    if (last === 'logout') return logout(request, context);
    if (last === 'refresh') return refresh(request, context);
    if (last === 'active-org') return switchOrg(request, context);
    return problem({ status: 404, error_code: 'not_found', detail: 'Not found.' });
  };

  const gatehouse: Gatehouse = {
    middleware: middleware as GatehouseMiddlewareFactory,
    proxy: middleware as GatehouseMiddlewareFactory,
    auth,
    getAuth,
    requireUser,
    currentUser,
    withAuth,
    getProfile,
    getToken,
    handlers: { GET, POST },
    login,
    register,
    logout,
    refresh,
    session,
    switchOrg,
    oauthStart,
    oauthCallback,
  };
  // The claims type is the app's description of its tokens' extra claims (unchecked at run time).
  return gatehouse as unknown as Gatehouse<Claims>;
}

/** The access token behind each session object, kept off the object itself so that it can never be
 * serialised with it (props of a Client Component end up in the page's HTML). */
const sessionTokens = new WeakMap<GatehouseSession<object>, string>();

function toSession(r: AuthResult): GatehouseSession | null {
  const s = baseSession(r);
  if (s && r.kind === 'session') sessionTokens.set(s, r.accessToken);
  return s;
}

/** A Node.js request's headers as Web Headers (repeated values joined; cookies with `; `). */
function nodeHeaders(req: NodeRequestLike): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (v === undefined) continue;
    try {
      h.set(k, Array.isArray(v) ? v.join(k.toLowerCase() === 'cookie' ? '; ' : ', ') : String(v));
    } catch {
      /* a header value Headers refuses: ignored */
    }
  }
  return h;
}

function problem(p: ProblemInit): NextResponse {
  return new NextResponse(JSON.stringify(problemBody(p)), { status: p.status, headers: problemHeaders(p) });
}

function configFailure(e: unknown): NextResponse {
  if (e instanceof GatehouseConfigError) {
    console.error(e.message);
    return problem(misconfiguredProblem(e.message));
  }
  throw e;
}

/** A redirect with a relative Location (plus the app's basePath): Next.js may believe it serves
 * http://localhost:PORT while the browser came through another name. */
function redirectTo(request: NextRequest, path: string, status: number): NextResponse {
  return noStore(new NextResponse(null, { status, headers: { Location: (request.nextUrl.basePath || '') + path } }));
}

function noStore<T extends Response>(res: T): T {
  res.headers.set('Cache-Control', 'no-store');
  return res;
}

function envAppUrl(): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.GATEHOUSE_APP_URL || undefined;
}

function btoaUrl(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function atobUrl(s: string): string {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

let warnedNoMiddleware = false;
/**
 * The middleware marks every request it sees (x-gatehouse-path). A request without the mark did
 * not go through it: no middleware.ts/proxy.ts at all, one the matcher skips this path for, or a
 * proxy.ts on Next 15, which knows only middleware.ts. Said once per process.
 */
function warnNoMiddleware(): void {
  if (warnedNoMiddleware) return;
  warnedNoMiddleware = true;
  console.warn(
    'gatehouse: auth()/requireUser() ran for a request the Gatehouse middleware did not see, so nothing renewed an expired session on the way in. ' +
      'Check that middleware.ts (Next 15; proxy.ts is Next 16 only) or proxy.ts (Next 16: a default or `proxy` export) is at the project root (or in src/), ' +
      'and that its config.matcher covers this path.',
  );
}

// ---- defaults bound to the GATEHOUSE_* environment ----

let defaultInstance: Gatehouse | undefined;
const instance = (): Gatehouse => (defaultInstance ??= createGatehouse());

/** The verified identity of the current request (cookie session, Bearer token or API key), or null. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export const auth = <Claims extends object = {}>(options?: AuthOptions): Promise<GatehouseSession<Claims> | null> =>
  instance().auth(options) as Promise<GatehouseSession<Claims> | null>;
/** auth() for the Pages Router: the verified identity of getServerSideProps' `context.req` or an
 * API route's `req` (cookies, Authorization, X-API-Key), or null. Never renews (the middleware does). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export const getAuth = <Claims extends object = {}>(req: NodeRequestLike, options?: GetAuthOptions): Promise<GatehouseSession<Claims> | null> =>
  instance().getAuth(req, options) as Promise<GatehouseSession<Claims> | null>;
/** The verified session, or a redirect to the login page with callbackUrl. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export const requireUser = <Claims extends object = {}>(options?: RequireUserOptions): Promise<GatehouseSession<Claims>> =>
  instance().requireUser(options) as Promise<GatehouseSession<Claims>>;
/** The signed-in user of the current request, or null (verified once per request in Server Components). */
export const currentUser = (): Promise<GatehouseSession['user'] | null> => instance().currentUser();
/** Wraps a Route Handler so that it only runs for authenticated requests (else 401/403/503 problem+json). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export const withAuth = <Claims extends object = {}>(handler: AuthedRouteHandler<Claims>, options?: Omit<AuthOptions, 'request'>): RouteHandler =>
  ((request, context) => instance().withAuth(handler as AuthedRouteHandler, options)(request, context)) as RouteHandler;
/** The verified access token of the current request's user session, or null. Server-side only:
 * for calling Gatehouse or your own APIs from the server; never pass it to a Client Component. */
export const getToken = (options?: AuthOptions): Promise<string | null> => instance().getToken(options);
/** GET /api/v1/users/me for a user session. */
export const getProfile = (session: GatehouseSession<object>): Promise<GatehouseUserObject> => instance().getProfile(session);
/** Route handlers for `app/api/auth/[...gatehouse]/route.ts`: `export const { GET, POST } = handlers;` */
export const handlers: { GET: RouteHandler; POST: RouteHandler } = {
  GET: (request, context) => instance().handlers.GET(request, context),
  POST: (request, context) => instance().handlers.POST(request, context),
};

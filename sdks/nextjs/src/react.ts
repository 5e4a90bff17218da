'use client';
// `@gatehouse/next-sdk/react`: the session in Client Components, and sign-in / sign-out helpers that
// call the SDK's route handlers. Client-side only: it imports React and the runtime-neutral
// safeRedirect, never server code, the API key or a token (the session object carries none).
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { safeRedirect } from './redirect.js';
import type { GatehouseSession } from './session.js';

export type { GatehouseSession, GatehouseOrg, GatehouseActor } from './session.js';

const SessionContext = createContext<{ session: GatehouseSession<object> | null } | undefined>(undefined);

export interface GatehouseProviderProps {
  /** The session as auth() returned it in a Server Component (it has no token), or null. */
  session: GatehouseSession<object> | null;
  children?: ReactNode;
}

/**
 * Makes the session available to Client Components below it (useSession(), useUser()). Render it
 * from a Server Component (a layout) with what auth() answered:
 * `<GatehouseProvider session={await auth()}>{children}</GatehouseProvider>`.
 */
export function GatehouseProvider({ session, children }: GatehouseProviderProps) {
  return createElement(SessionContext.Provider, { value: { session: session ?? null } }, children);
}

function useSessionContext(hook: string): { session: GatehouseSession<object> | null } {
  const v = useContext(SessionContext);
  if (!v) throw new Error(`gatehouse: ${hook}() must be used inside <GatehouseProvider>`);
  return v;
}

/** The session given to <GatehouseProvider>, or null when nobody is signed in. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export function useSession<Claims extends object = {}>(): GatehouseSession<Claims> | null {
  return useSessionContext('useSession').session as GatehouseSession<Claims> | null;
}

/** The signed-in user (`session.user`), or null. */
export function useUser(): GatehouseSession['user'] | null {
  return useSessionContext('useUser').session?.user ?? null;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

interface ClientCallOptions {
  /** Where the catch-all auth route is mounted. Default `/api/auth`. */
  authPath?: string;
  /** Where to go afterwards (a same-origin path; anything else gives the default). */
  callbackUrl?: string;
  /** Go to callbackUrl when done. Default true. */
  redirect?: boolean;
  /** For tests and special set-ups. Default: the global fetch. */
  fetch?: FetchLike;
  /** For tests. Default: `window.location.assign`. */
  navigate?: (url: string) => void;
}

export interface SignInOptions extends ClientCallOptions {
  /** Sign in with a password (POST `{authPath}/login`); without them (and without a provider), go to loginPath. */
  email?: string;
  password?: string;
  /** The app's login page, used when neither a provider nor credentials are given. Default `/login`. */
  loginPath?: string;
}

/** What signIn() with credentials and signOut() answer. */
export type SignInResult =
  | { ok: true; user?: { id: string; email?: string; [k: string]: unknown } }
  | {
      ok: false;
      status: number;
      /** The login page's error vocabulary: `invalid_credentials`, `forbidden`, `rate_limited`, `invalid_input`, `cross_site_request`, `unavailable`, `failed`. */
      error: string;
    };

const navigateDefault = (url: string): void => {
  (globalThis as { location?: { assign(u: string): void } }).location?.assign(url);
};

function currentPath(): string {
  const l = (globalThis as { location?: { pathname: string; search: string } }).location;
  return l ? l.pathname + l.search : '/';
}

function base(authPath: string | undefined): string {
  return (authPath ?? '/api/auth').replace(/\/+$/, '');
}

function errorFor(status: number, body: unknown): string {
  const code = body && typeof body === 'object' ? (body as { error_code?: unknown }).error_code : undefined;
  if (code === 'cross_site_request') return code;
  if (status === 401) return 'invalid_credentials';
  if (status === 403) return 'forbidden';
  if (status === 422 || status === 400) return 'invalid_input';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'failed';
}

/**
 * Signs in.
 * - `signIn('github', { callbackUrl })`: goes to `{authPath}/oauth/github?callbackUrl=…` (OAuth).
 * - `signIn(undefined, { email, password, callbackUrl })`: POSTs them as JSON to `{authPath}/login`
 *   (the handler sets the HttpOnly cookies), then goes to callbackUrl (default `/`) unless
 *   `redirect: false`; answers `{ ok }` or `{ ok: false, status, error }` without navigating.
 * - `signIn()`: goes to the login page (`loginPath`, default `/login`) with `callbackUrl`
 *   (default: the current page).
 */
export async function signIn(provider?: string, options: SignInOptions = {}): Promise<SignInResult | undefined> {
  const navigate = options.navigate ?? navigateDefault;
  if (provider) {
    const cb = safeRedirect(options.callbackUrl, '');
    const q = cb ? `?callbackUrl=${encodeURIComponent(cb)}` : '';
    navigate(`${base(options.authPath)}/oauth/${encodeURIComponent(provider.toLowerCase())}${q}`);
    return undefined;
  }
  if (options.email === undefined && options.password === undefined) {
    const login = options.loginPath ?? '/login';
    const cb = safeRedirect(options.callbackUrl ?? currentPath(), '');
    navigate(cb ? `${login}${login.includes('?') ? '&' : '?'}callbackUrl=${encodeURIComponent(cb)}` : login);
    return undefined;
  }
  const f = options.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));
  let res: Response;
  try {
    res = await f(`${base(options.authPath)}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ email: options.email ?? '', password: options.password ?? '' }),
    });
  } catch {
    return { ok: false, status: 0, error: 'unavailable' };
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) return { ok: false, status: res.status, error: errorFor(res.status, body) };
  if (options.redirect !== false) navigate(safeRedirect(options.callbackUrl, '/'));
  const user = body && typeof body === 'object' ? (body as { user?: { id: string } }).user : undefined;
  return { ok: true, user };
}

/**
 * Signs out: POSTs to `{authPath}/logout`, which revokes the session at Gatehouse and clears the
 * cookies, then goes to callbackUrl (default `/`) unless `redirect: false`.
 */
export async function signOut(options: ClientCallOptions = {}): Promise<SignInResult> {
  const f = options.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));
  let res: Response;
  try {
    res = await f(`${base(options.authPath)}/logout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: '{}',
    });
  } catch {
    return { ok: false, status: 0, error: 'unavailable' };
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) return { ok: false, status: res.status, error: errorFor(res.status, body) };
  if (options.redirect !== false) (options.navigate ?? navigateDefault)(safeRedirect(options.callbackUrl, '/'));
  return { ok: true };
}

/**
 * Switches the session's active organization: POSTs `{ org_id }` to `{authPath}/active-org` (the
 * handler asks Gatehouse and renews the HttpOnly cookies with a token that carries the
 * organization; `""` leaves none), then reloads callbackUrl (default: the current page) so that
 * Server Components render with it, unless `redirect: false`.
 */
export async function switchOrganization(orgId: string, options: ClientCallOptions = {}): Promise<SignInResult> {
  const f = options.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));
  let res: Response;
  try {
    res = await f(`${base(options.authPath)}/active-org`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ org_id: orgId }),
    });
  } catch {
    return { ok: false, status: 0, error: 'unavailable' };
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) return { ok: false, status: res.status, error: errorFor(res.status, body) };
  if (options.redirect !== false) (options.navigate ?? navigateDefault)(safeRedirect(options.callbackUrl ?? currentPath(), '/'));
  return { ok: true };
}

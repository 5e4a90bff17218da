// Server-to-server calls to Gatehouse, with the single-flight refresh and the introspection cache.
// Web APIs only (fetch, crypto.subtle): this runs on the Edge runtime too.
import { GatehouseConfigError, type ResolvedConfig } from './config.js';

/** A user object as Gatehouse returns it. */
export interface GatehouseUserObject {
  id: string;
  email: string;
  name: string;
  email_verified: boolean;
  role: string;
  roles: string[];
  is_active: boolean;
  avatar_url: string | null;
  created_at: string;
  [k: string]: unknown;
}

/** Gatehouse's token response (register, login, refresh, OAuth callback). */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  user: GatehouseUserObject;
}

/** Gatehouse's answer to `POST /api/v1/users/me/active-org`: a new access token for the session. */
export interface ActiveOrgResponse {
  access_token?: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  org_id?: string;
}

/** An RFC 9457 problem document from Gatehouse. */
export interface Problem {
  status: number;
  detail?: string;
  error_code?: string;
  title?: string;
  [k: string]: unknown;
}

/** RFC 7662 answer from `POST /api/v1/auth/introspect`. */
export interface Introspection {
  active: boolean;
  token_type?: string;
  sub?: string;
  sid?: string;
  key_id?: string;
  scope?: string;
  email?: string;
  role?: string;
  exp?: number;
  iat?: number;
  iss?: string;
}

/** Gatehouse could not be reached, timed out, or failed on its side (5xx). */
export class GatehouseUnavailableError extends Error {
  override name = 'GatehouseUnavailableError';
}

/** Gatehouse answered with a 4xx problem. */
export class GatehouseResponseError extends Error {
  override name = 'GatehouseResponseError';
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly retryAfter: string | null,
  ) {
    super(problem.detail ?? `Gatehouse answered ${status}`);
  }
}

/** Request context forwarded to Gatehouse so sessions and rate limits see the end user. */
export interface ClientInfo {
  userAgent?: string | null;
  forwardedFor?: string | null;
}

export async function sha256Hex(s: string): Promise<string> {
  const buf = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  let out = '';
  for (const b of new Uint8Array(buf)) out += b.toString(16).padStart(2, '0');
  return out;
}

/** A small expiring map with a size cap: oldest entries go first. */
export class TTLCache<V> {
  private map = new Map<string, { until: number; value: V }>();
  constructor(private readonly max = 1000) {}
  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.until <= Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.map.delete(key);
    this.map.set(key, { until: Date.now() + ttlMs, value });
    if (this.map.size > this.max) {
      const now = Date.now();
      for (const [k, e] of this.map) if (e.until <= now) this.map.delete(k);
      while (this.map.size > this.max) {
        const first = this.map.keys().next();
        if (first.done) break;
        this.map.delete(first.value);
      }
    }
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

export type RefreshOutcome =
  | { kind: 'ok'; tokens: TokenResponse }
  | { kind: 'rejected'; status: number; problem: Problem }
  | { kind: 'unavailable'; error: unknown };

export type IntrospectOutcome =
  | { kind: 'ok'; result: Introspection }
  | { kind: 'unavailable'; error: unknown }
  /** The app's own key is missing, or Gatehouse refused it: a configuration error, not an outage. */
  | { kind: 'misconfigured'; error: GatehouseConfigError };

/** How long a successful refresh is remembered for callers that still hold the spent token
 * (parallel requests that left the browser before the new cookies arrived). Kept below Gatehouse's
 * default 10 s reuse interval. */
const REFRESH_MEMORY_MS = 5000;

export class GatehouseClient {
  private readonly refreshInflight = new Map<string, Promise<RefreshOutcome>>();
  private readonly refreshMemory = new TTLCache<TokenResponse>(1000);
  private readonly introspectInflight = new Map<string, Promise<IntrospectOutcome>>();
  private readonly introspectCache = new TTLCache<Introspection>(5000);
  /** Number of refresh calls actually sent to Gatehouse (for tests and metrics). */
  refreshCalls = 0;
  /** Number of introspection calls actually sent to Gatehouse. */
  introspectCalls = 0;

  constructor(
    readonly cfg: ResolvedConfig,
    private readonly introspectTtlMs = 5000,
  ) {}

  /** Sends one request to Gatehouse. Network failures, timeouts and 5xx become GatehouseUnavailableError;
   * other non-2xx answers become GatehouseResponseError. */
  async request<T>(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; client?: ClientInfo } = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...init.headers };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (init.client?.userAgent) headers['User-Agent'] = init.client.userAgent;
    if (init.client?.forwardedFor) headers['X-Forwarded-For'] = init.client.forwardedFor;
    let res: Response;
    try {
      res = await this.cfg.fetch(this.cfg.authUrl + path, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        cache: 'no-store',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
    } catch (e) {
      throw new GatehouseUnavailableError(`gatehouse: ${method} ${path} failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new GatehouseUnavailableError(`gatehouse: ${method} ${path}: reading the answer failed`, { cause: e });
    }
    if (res.status >= 500 || (res.status >= 300 && res.status < 400)) {
      throw new GatehouseUnavailableError(`gatehouse: ${method} ${path} answered ${res.status}`);
    }
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        if (res.ok) throw new GatehouseUnavailableError(`gatehouse: ${method} ${path} answered non-JSON`);
      }
    }
    if (!res.ok) {
      const problem: Problem =
        body && typeof body === 'object' ? { ...(body as Problem), status: res.status } : { status: res.status, detail: `Gatehouse answered ${res.status}` };
      throw new GatehouseResponseError(res.status, problem, res.headers.get('retry-after'));
    }
    return body as T;
  }

  login(email: string, password: string, client?: ClientInfo): Promise<TokenResponse> {
    return this.request<TokenResponse>('POST', '/api/v1/auth/login', { body: { email, password }, client }).then(checkTokens);
  }

  register(email: string, password: string, name: string, client?: ClientInfo): Promise<TokenResponse> {
    return this.request<TokenResponse>('POST', '/api/v1/auth/register', { body: { email, password, name }, client }).then(checkTokens);
  }

  async logout(accessToken: string, client?: ClientInfo): Promise<void> {
    await this.request('POST', '/api/v1/auth/logout', { headers: { Authorization: `Bearer ${accessToken}` }, client });
  }

  /**
   * Makes orgId the session's active organization (`""`: none) with `POST
   * /api/v1/users/me/active-org`. Gatehouse answers with a new access token that carries it (the
   * session's earlier access tokens stop working); a refresh token is kept unless one is sent.
   */
  switchActiveOrg(accessToken: string, orgId: string, client?: ClientInfo): Promise<ActiveOrgResponse> {
    return this.request<ActiveOrgResponse>('POST', '/api/v1/users/me/active-org', {
      body: { org_id: orgId },
      headers: { Authorization: `Bearer ${accessToken}` },
      client,
    }).then((r) => (r && typeof r === 'object' ? r : {}));
  }

  me(accessToken: string): Promise<GatehouseUserObject> {
    return this.request<GatehouseUserObject>('GET', '/api/v1/users/me', { headers: { Authorization: `Bearer ${accessToken}` } });
  }

  oauthAuthorize(provider: string, redirectUri: string): Promise<{ authorization_url: string; state: string }> {
    return this.request('GET', `/api/v1/auth/${encodeURIComponent(provider)}/authorize?redirect_uri=${encodeURIComponent(redirectUri)}`);
  }

  oauthCallback(provider: string, code: string, redirectUri: string, state: string, client?: ClientInfo): Promise<TokenResponse> {
    return this.request<TokenResponse>('POST', `/api/v1/auth/${encodeURIComponent(provider)}/callback`, {
      body: { code, redirect_uri: redirectUri, state },
      client,
    }).then(checkTokens);
  }

  /**
   * Refreshes a session. Single-flight per process: concurrent calls with the same refresh token
   * share one request to Gatehouse, and a success is remembered for a few seconds for callers that
   * still present the spent token. Never throws.
   */
  async refresh(refreshToken: string, client?: ClientInfo): Promise<RefreshOutcome> {
    const key = await sha256Hex(refreshToken);
    const remembered = this.refreshMemory.get(key);
    if (remembered) return { kind: 'ok', tokens: remembered };
    let p = this.refreshInflight.get(key);
    if (!p) {
      p = this.doRefresh(refreshToken, client).then((o) => {
        if (o.kind === 'ok') this.refreshMemory.set(key, o.tokens, REFRESH_MEMORY_MS);
        this.refreshInflight.delete(key);
        return o;
      });
      this.refreshInflight.set(key, p);
    }
    return p;
  }

  private async doRefresh(refreshToken: string, client?: ClientInfo): Promise<RefreshOutcome> {
    this.refreshCalls++;
    try {
      const tokens = await this.request<TokenResponse>('POST', '/api/v1/auth/refresh', { body: { refresh_token: refreshToken }, client });
      return { kind: 'ok', tokens: checkTokens(tokens) };
    } catch (e) {
      if (e instanceof GatehouseResponseError) return { kind: 'rejected', status: e.status, problem: e.problem };
      return { kind: 'unavailable', error: e };
    }
  }

  /**
   * Asks Gatehouse about a credential (an API key from a machine caller, or an access token),
   * authenticated with the app's own API key. Answers are cached for a few seconds by a SHA-256 of
   * the credential, and concurrent identical questions share one request. Never throws.
   */
  async introspect(credential: string): Promise<IntrospectOutcome> {
    const key = await sha256Hex(credential);
    const cached = this.introspectCache.get(key);
    if (cached) return { kind: 'ok', result: cached };
    let p = this.introspectInflight.get(key);
    if (!p) {
      p = this.doIntrospect(credential).then((o) => {
        if (o.kind === 'ok') this.introspectCache.set(key, o.result, this.introspectTtlMs);
        this.introspectInflight.delete(key);
        return o;
      });
      this.introspectInflight.set(key, p);
    }
    return p;
  }

  private async doIntrospect(credential: string): Promise<IntrospectOutcome> {
    const apiKey = this.cfg.apiKey;
    if (!apiKey) {
      const error = new GatehouseConfigError(
        'gatehouse: no app API key, so API keys and introspection cannot be checked: pass apiKey (a key with scope tokens:introspect) to createGatehouse()/createMiddleware(), or set GATEHOUSE_API_KEY',
      );
      console.error(error.message);
      return { kind: 'misconfigured', error };
    }
    this.introspectCalls++;
    try {
      const result = await this.request<Introspection>('POST', '/api/v1/auth/introspect', {
        body: { token: credential },
        headers: { 'X-API-Key': apiKey },
      });
      if (!result || typeof result.active !== 'boolean') throw new GatehouseUnavailableError('gatehouse: malformed introspection answer');
      return { kind: 'ok', result };
    } catch (e) {
      if (e instanceof GatehouseResponseError && e.status !== 429) {
        // Gatehouse refused the APP's key (401: unknown/revoked, 403: no tokens:introspect scope).
        // That is a configuration problem of this app, not the caller's fault, and retrying will
        // not help: report it as such (500), with the fix in the log.
        const error = new GatehouseConfigError(
          `gatehouse: Gatehouse refused the app's API key for introspection (${e.status} ${e.problem.error_code ?? ''}): pass a live key with scope tokens:introspect as apiKey (createGatehouse()/createMiddleware()) or GATEHOUSE_API_KEY`,
        );
        console.error(error.message);
        return { kind: 'misconfigured', error };
      }
      return { kind: 'unavailable', error: e };
    }
  }
}

function checkTokens(t: TokenResponse): TokenResponse {
  if (!t || typeof t.access_token !== 'string' || typeof t.refresh_token !== 'string' || !t.access_token || !t.refresh_token) {
    throw new GatehouseUnavailableError('gatehouse: malformed token response');
  }
  return t;
}

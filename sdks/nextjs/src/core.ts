// The authentication decision shared by the middleware and the server helpers.
import { GatehouseClient, type ClientInfo, type Introspection, type TokenResponse } from './client.js';
import { cookieNames, isSecureRequest, parseCookieHeader, type SessionCookieNames } from './cookies.js';
import { resolveConfig, type GatehouseOptions, type ResolvedConfig } from './config.js';
import { createVerifier, shouldRenewEarly, type AccessClaims, type Verifier } from './verify.js';

export interface Credentials {
  /** `Authorization: Bearer` value (takes precedence over everything else). */
  bearer?: string;
  /** `X-API-Key` value. */
  apiKey?: string;
  /** Access-token cookie. */
  access?: string;
  /** Refresh-token cookie. */
  refresh?: string;
}

export type AuthResult =
  | { kind: 'session'; claims: AccessClaims; accessToken: string; renewed?: TokenResponse; via: 'cookie' | 'bearer' }
  | { kind: 'api_key'; introspection: Introspection; scopes: string[] }
  | { kind: 'none'; presented: boolean }
  | { kind: 'forbidden'; detail: string }
  | { kind: 'unavailable'; error: unknown }
  /** The app's own Gatehouse key is missing or refused: answered as a 500, not a retryable 503. */
  | { kind: 'misconfigured'; error: Error };

export interface AuthenticateOptions {
  /** Accept machine API keys (X-API-Key, or Bearer ak_...). */
  allowApiKey: boolean;
  /** Scopes an API key must all have; otherwise the answer is `forbidden`. */
  requiredScopes?: string[];
  /** Renew an expired (or nearly expired) cookie session with the refresh cookie. */
  allowRefresh: boolean;
  /** Seconds before expiry at which a session is renewed early (see shouldRenewEarly). */
  renewEarlySeconds?: number;
  /** Check the access token with Gatehouse as well (sees revocations at once; costs a call). */
  introspectSessions?: boolean;
  client?: ClientInfo;
}

/** Per-instance state: resolved configuration, JWKS cache, refresh single-flight, introspection cache. */
export class Engine {
  readonly cfg: ResolvedConfig;
  private warnedNoAppKey = false;
  readonly verify: Verifier;
  readonly client: GatehouseClient;

  constructor(options: GatehouseOptions, introspectTtlMs?: number) {
    this.cfg = resolveConfig(options);
    this.verify = createVerifier(this.cfg);
    this.client = new GatehouseClient(this.cfg, introspectTtlMs);
  }

  names(secure: boolean): SessionCookieNames {
    return cookieNames(this.cfg, secure);
  }

  secure(headers: Headers, url?: URL): boolean {
    return isSecureRequest(this.cfg, headers, url);
  }

  /** Reads credentials from request headers. */
  credentials(headers: Headers, secure: boolean): Credentials {
    const out: Credentials = {};
    const authz = headers.get('authorization');
    if (authz !== null) {
      const m = /^\s*bearer\s+(\S*)\s*$/i.exec(authz);
      if (m) out.bearer = m[1] ?? '';
      else if (/^\s*bearer\s*$/i.test(authz)) out.bearer = '';
    }
    const key = headers.get('x-api-key');
    if (key !== null) out.apiKey = key.trim();
    const jar = parseCookieHeader(headers.get('cookie'));
    const names = this.names(secure);
    const access = jar.get(names.access);
    const refresh = jar.get(names.refresh);
    if (access) out.access = access;
    if (refresh) out.refresh = refresh;
    return out;
  }

  async authenticate(creds: Credentials, o: AuthenticateOptions): Promise<AuthResult> {
    // 1. Authorization: Bearer wins over everything. A Bearer "ak_..." is an API key (as at Gatehouse).
    if (creds.bearer !== undefined) {
      if (creds.bearer.startsWith('ak_')) {
        return o.allowApiKey ? this.checkApiKey(creds.bearer, o.requiredScopes) : { kind: 'none', presented: true };
      }
      const v = await this.verify(creds.bearer);
      if (v.ok) return this.maybeIntrospect({ kind: 'session', claims: v.claims, accessToken: creds.bearer, via: 'bearer' }, o);
      if (v.reason === 'unavailable') return { kind: 'unavailable', error: v.error };
      return { kind: 'none', presented: true };
    }
    // 2. A machine caller's X-API-Key (only where API keys are allowed; elsewhere it is ignored).
    if (creds.apiKey !== undefined && o.allowApiKey) {
      return this.checkApiKey(creds.apiKey, o.requiredScopes);
    }
    // 3. The cookie session.
    const v = await this.verify(creds.access);
    if (v.ok) {
      if (o.allowRefresh && creds.refresh && shouldRenewEarly(v.claims, o.renewEarlySeconds ?? 10)) {
        const renewed = await this.renew(creds.refresh, o.client);
        // Renewing early is a courtesy: if it fails, the still-valid token serves this request.
        if (renewed.kind === 'session') return renewed;
      }
      return this.maybeIntrospect({ kind: 'session', claims: v.claims, accessToken: creds.access!, via: 'cookie' }, o);
    }
    if (v.reason === 'unavailable') return { kind: 'unavailable', error: v.error };
    if (o.allowRefresh && creds.refresh) return this.renew(creds.refresh, o.client);
    return { kind: 'none', presented: v.reason !== 'missing' || creds.refresh !== undefined };
  }

  /** Exchanges the refresh cookie for new tokens (single-flight) and verifies the new access token. */
  async renew(refreshToken: string, client?: ClientInfo): Promise<AuthResult> {
    const out = await this.client.refresh(refreshToken, client);
    if (out.kind === 'unavailable') return { kind: 'unavailable', error: out.error };
    if (out.kind === 'rejected') {
      // 429 (rate limited) is not a verdict on the session: report it as unavailable, no logout.
      if (out.status === 429) return { kind: 'unavailable', error: new Error('gatehouse: refresh rate limited') };
      return { kind: 'none', presented: true };
    }
    const v = await this.verify(out.tokens.access_token);
    if (v.ok) return { kind: 'session', claims: v.claims, accessToken: out.tokens.access_token, renewed: out.tokens, via: 'cookie' };
    if (v.reason === 'unavailable') return { kind: 'unavailable', error: v.error };
    // Gatehouse just issued a token this app cannot verify: issuer/audience/algorithm misconfigured.
    console.error(
      `gatehouse: a freshly issued access token failed verification (${v.reason}); check issuer (${this.cfg.issuer}), audience and algorithms`,
    );
    return { kind: 'none', presented: true };
  }

  private async maybeIntrospect(r: AuthResult & { kind: 'session' }, o: AuthenticateOptions): Promise<AuthResult> {
    if (!o.introspectSessions) return r;
    const out = await this.client.introspect(r.accessToken);
    if (out.kind !== 'ok') return out;
    if (!out.result.active || out.result.sub !== r.claims.sub) return { kind: 'none', presented: true };
    return r;
  }

  async checkApiKey(key: string, requiredScopes: string[] = []): Promise<AuthResult> {
    if (!key.startsWith('ak_') || key.length > 256) return { kind: 'none', presented: true };
    // Without an app key this app accepts no API keys at all (cookie sessions only): a key anyone
    // sends is simply not accepted, never a server error (which would let any caller make 5xx
    // answers and error logs at will). Said once, at the first such request.
    if (!this.cfg.apiKey) {
      if (!this.warnedNoAppKey) {
        this.warnedNoAppKey = true;
        console.warn(
          'gatehouse: an API key was presented, but this app has no app API key, so API keys are not accepted: pass apiKey (a key with scope tokens:introspect) to createGatehouse()/createMiddleware(), or set GATEHOUSE_API_KEY',
        );
      }
      return { kind: 'none', presented: true };
    }
    const out = await this.client.introspect(key);
    if (out.kind !== 'ok') return out;
    const r = out.result;
    if (!r.active || r.token_type !== 'api_key' || !r.sub) return { kind: 'none', presented: true };
    const scopes = (r.scope ?? '').split(/\s+/).filter(Boolean);
    const missing = requiredScopes.filter((s) => !scopes.includes(s));
    if (missing.length > 0) return { kind: 'forbidden', detail: `The API key lacks the scope ${missing.join(', ')}.` };
    return { kind: 'api_key', introspection: r, scopes };
  }
}

import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { GatehouseAuthError, insufficientScope, invalid, unavailable } from './errors.js';
import { makePrincipal, readActor, readOrg, type AuthInfo, type Principal } from './principal.js';
import { sha256Key } from './hash.js';

/** Defaults of the options (seconds). */
export const DEFAULT_LEEWAY = 5;
export const DEFAULT_INTROSPECTION_CACHE_TTL = 30;
export const DEFAULT_SESSION_CACHE_TTL = 5;
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000;
export const DEFAULT_JWKS_MAX_AGE = 3600;
/** The largest leeway accepted: clock skew beyond this is a misconfigured clock. */
export const MAX_LEEWAY = 300;
/** The least time (seconds) between two JWKS fetches caused by tokens naming an unknown `kid`. */
export const UNKNOWN_KEY_REFETCH_INTERVAL = 10;
/** Every Gatehouse API key starts with this. */
export const API_KEY_PREFIX = 'ak_';

const NO_KEYS_RETRY_INTERVAL = 1; // seconds between attempts while no JWKS was ever loaded
const MAX_TOKEN_LENGTH = 8 << 10;
const MAX_JWKS_BYTES = 1 << 20;
const MAX_INTROSPECTION_BYTES = 64 << 10;
const HTTP_TIMEOUT_MS = 10_000;
const METADATA_PREFIX = '/.well-known/oauth-protected-resource';

/** Where the kit reports the failures of its JWKS and introspection calls (never a credential). */
export interface Logger {
  error(message: string, details?: Record<string, unknown>): void;
}

export interface VerifierOptions {
  /** Gatehouse's public URL exactly as in the tokens' `iss` (GATEHOUSE_PUBLIC_URL, no trailing slash). */
  issuer: string;
  /** This server's resource URI exactly as registered in Gatehouse; a token's `aud` must equal it. */
  resource: string;
  /** Default `{issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Seconds after which the key set is fetched again on the next verification; default 3600. */
  jwksMaxAge?: number;
  /** Used for the JWKS and introspection; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Seconds of clock skew allowed on exp, nbf and iat; default 5; 0 or negative: none; at most 300. */
  leeway?: number;
  /** Accept an `aud` array of several values one of which is `resource`. Off by default. */
  allowMultipleAudiences?: boolean;
  /** Listed in the metadata, with every scope a middleware or `authorize` call names. */
  scopesSupported?: string[];
  /** `resource_name` in the metadata. */
  resourceName?: string;
  /** Accept Gatehouse API keys (`X-API-Key`, `Bearer ak_…`) through introspection. Needs `introspectionKey`. */
  acceptApiKeys?: boolean;
  /** Ask introspection whether each token's session is still live. Needs `introspectionKey`. */
  checkSessions?: boolean;
  /** This server's own Gatehouse API key with scope `tokens:introspect`. */
  introspectionKey?: string;
  /** Default `{issuer}/api/v1/auth/introspect`. */
  introspectionUrl?: string;
  /** Seconds an API key's answer (good or bad) is reused; default 30; negative: no cache. */
  introspectionCacheTtl?: number;
  /** Seconds a live-session answer is reused; default 5; negative: no cache. */
  sessionCacheTtl?: number;
  /** Bound of the verified-token cache; default 10,000; negative disables it. */
  tokenCacheSize?: number;
  /** The clock, in milliseconds since the epoch; default `Date.now`. Tests inject their own. */
  now?: () => number;
  /** Default `console`. */
  logger?: Logger;
}

/** RFC 9728 protected-resource metadata. */
export interface ResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
}

/** An HTTP answer, for frameworks that do not speak `Response`. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads one request header by its lower-case name (`undefined`/`null` when absent). */
export type HeaderGetter = (name: string) => string | null | undefined;

interface PublicKey {
  key: CryptoKey | Uint8Array;
  alg: string;
}
interface KeySet {
  byId: Map<string, PublicKey>;
  fetchedAt: number; // ms
}
interface TokenEntry {
  p: Principal;
  exp: number; // ms: the entry is dead from then on
  kid: string;
}
interface ResultEntry {
  p?: Principal;
  err?: GatehouseAuthError;
  until: number; // ms
}
interface Introspection {
  active?: unknown;
  token_type?: unknown;
  sub?: unknown;
  sid?: unknown;
  key_id?: unknown;
  client_id?: unknown;
  scope?: unknown;
  email?: unknown;
  exp?: unknown;
}

// Asymmetric algorithms only, so "none" and HMAC (whose key would be public) never verify anything.
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/** Verifies Gatehouse credentials for one resource. One per resource; safe to share. */
export class Verifier {
  readonly issuer: string;
  readonly resource: string;
  /** The `resource_metadata` of the challenges: the well-known path inserted before the resource's path (RFC 9728 §3.1). */
  readonly metadataUrl: string;
  /** The paths the metadata is served at: the path-inserted one and the root one. */
  readonly metadataPaths: readonly string[];
  /** Seconds of clock skew allowed. */
  readonly leeway: number;

  readonly #jwksUrl: string;
  readonly #introUrl: string;
  readonly #jwksMaxAge: number;
  readonly #multiAud: boolean;
  readonly #apiKeys: boolean;
  readonly #sessions: boolean;
  readonly #introKey: string;
  readonly #introTtl: number;
  readonly #sessTtl: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #resourceName: string | undefined;
  readonly #scopes = new Set<string>();

  #keys: KeySet | undefined;
  #fetching: Promise<void> | undefined;
  #lastFetch: number | undefined;
  readonly #tokens: Map<string, TokenEntry> | undefined;
  readonly #tokenMax: number;
  readonly #intro = new Map<string, ResultEntry>();
  readonly #sess = new Map<string, ResultEntry>();

  constructor(options: VerifierOptions) {
    const o = options ?? ({} as VerifierOptions);
    checkIssuer(o.issuer);
    const res = checkResource(o.resource);
    this.issuer = o.issuer;
    this.resource = o.resource;
    this.#jwksUrl = o.jwksUrl ?? o.issuer + '/.well-known/jwks.json';
    if (o.jwksUrl !== undefined) checkHttpUrl('jwksUrl', o.jwksUrl);
    this.#introUrl = o.introspectionUrl ?? o.issuer + '/api/v1/auth/introspect';
    if (o.introspectionUrl !== undefined) checkHttpUrl('introspectionUrl', o.introspectionUrl);
    let leeway = o.leeway ?? DEFAULT_LEEWAY;
    if (leeway < 0) leeway = 0;
    if (!Number.isFinite(leeway) || leeway > MAX_LEEWAY) throw new Error(`gatehouse: leeway ${o.leeway} exceeds ${MAX_LEEWAY} seconds`);
    this.leeway = leeway;
    this.#jwksMaxAge = (o.jwksMaxAge && o.jwksMaxAge > 0 ? o.jwksMaxAge : DEFAULT_JWKS_MAX_AGE) * 1000;
    this.#multiAud = !!o.allowMultipleAudiences;
    this.#apiKeys = !!o.acceptApiKeys;
    this.#sessions = !!o.checkSessions;
    this.#introKey = o.introspectionKey ?? '';
    if ((this.#apiKeys || this.#sessions) && !this.#introKey) {
      throw new Error('gatehouse: acceptApiKeys and checkSessions need introspectionKey (an API key with scope tokens:introspect)');
    }
    this.#introTtl = ttl(o.introspectionCacheTtl, DEFAULT_INTROSPECTION_CACHE_TTL);
    this.#sessTtl = ttl(o.sessionCacheTtl, DEFAULT_SESSION_CACHE_TTL);
    const f = o.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new Error('gatehouse: no fetch in this runtime; pass options.fetch');
    this.#fetch = (input, init) => f(input, init);
    this.#now = o.now ?? Date.now;
    this.#log = o.logger ?? console;
    this.#resourceName = o.resourceName;
    const size = o.tokenCacheSize ?? DEFAULT_TOKEN_CACHE_SIZE;
    this.#tokenMax = size === 0 ? DEFAULT_TOKEN_CACHE_SIZE : size;
    this.#tokens = size < 0 ? undefined : new Map();

    const paths = [METADATA_PREFIX];
    if (res.pathname.replace(/\/$/, '') !== '') paths.unshift(METADATA_PREFIX + res.pathname);
    this.metadataPaths = Object.freeze(paths);
    this.metadataUrl = res.protocol + '//' + res.host + paths[0];
    this.addScopes(...(o.scopesSupported ?? []));
  }

  // ---- verification ----------------------------------------------------------------------

  /**
   * Verifies an access token (the JWT alone, without "Bearer ") and returns its principal.
   * Scopes are not checked here (see {@link requireScopes}, {@link Verifier.authorize}). With
   * `checkSessions` it also asks Gatehouse whether the token's session is still live.
   */
  async verify(token: string): Promise<Principal> {
    if (!token) throw new GatehouseAuthError('no_token', '');
    if (token.length > MAX_TOKEN_LENGTH) throw invalid('token too long');
    if (token.startsWith(API_KEY_PREFIX)) throw invalid('an API key is not an access token');
    const k = await sha256Key(token);
    const now = this.#now();
    let p: Principal | undefined;
    const e = this.#tokens?.get(k);
    if (e && now < e.exp) p = e.p;
    if (!p) {
      const [verified, kid] = await this.#verifyJWT(token, now);
      p = verified;
      this.#putToken(k, { p, exp: (p.expiresAt as number) * 1000, kid }, now);
    }
    if (this.#sessions) await this.#checkSession(k, token, p, now);
    return p;
  }

  async #verifyJWT(token: string, now: number): Promise<[Principal, string]> {
    const parts = token.split('.');
    if (parts.length !== 3) throw invalid('not a JWT');
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
    } catch (e) {
      throw invalid('malformed token', e);
    }
    if (!isAccessTokenType(header.typ)) throw invalid('token type is not "at+jwt"');
    const kid = header.kid;
    if (typeof kid !== 'string' || kid === '') throw invalid('token header has no "kid"');
    const key = await this.#key(kid);
    // The algorithm is the key's, never the token's choice.
    if (header.alg !== key.alg) throw invalid('token algorithm does not match its key');
    let payloadBytes: Uint8Array;
    try {
      ({ payload: payloadBytes } = await compactVerify(token, key.key, { algorithms: [key.alg] }));
    } catch (e) {
      throw invalid('bad signature', e);
    }
    let c: Record<string, unknown>;
    try {
      c = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
    } catch (e) {
      throw invalid('malformed claims', e);
    }
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalid('malformed claims');
    for (const name of ['sub', 'sid', 'client_id', 'scope', 'email'] as const) {
      if (c[name] !== undefined && typeof c[name] !== 'string') throw invalid('malformed claims');
    }
    if (c.iss !== this.issuer) throw invalid('token issued by another issuer');
    this.#checkAudience(c.aud);
    if (!c.sub) throw invalid('token has no "sub"');
    const act = readActor(c.act);
    if (act === null) throw invalid('token has a malformed "act"');
    const org = readOrg(c);
    if (org === null) throw invalid('token has malformed organization claims');
    const lee = this.leeway * 1000;
    const exp = numericDate(c.exp);
    if (exp === undefined) throw invalid('token has no valid "exp"');
    if (!(now < exp * 1000 + lee)) throw invalid('token expired');
    if (c.nbf !== undefined) {
      const nbf = numericDate(c.nbf);
      if (nbf === undefined || now + lee < nbf * 1000) throw invalid('token not valid yet');
    }
    const iat = numericDate(c.iat);
    if (iat === undefined) throw invalid('token has no valid "iat"');
    if (now + lee < iat * 1000) throw invalid('token issued in the future');
    const p = makePrincipal({
      subject: c.sub as string,
      clientId: (c.client_id as string) || undefined,
      scopes: splitScope(c.scope),
      sessionId: (c.sid as string) || undefined,
      email: (c.email as string) || undefined,
      act,
      org,
      keyId: undefined,
      tokenType: 'access_token',
      expiresAt: exp,
      claims: c,
    });
    return [p, kid];
  }

  // aud must equal the resource: a string, or an array of exactly one element; an array of
  // several only with allowMultipleAudiences. Never a prefix, suffix or case-insensitive match.
  #checkAudience(aud: unknown): void {
    let auds: unknown[];
    if (typeof aud === 'string') auds = [aud];
    else if (Array.isArray(aud)) auds = aud;
    else if (aud === undefined || aud === null) throw invalid('token has no "aud"');
    else throw invalid('malformed "aud"');
    if (auds.some((a) => typeof a !== 'string')) throw invalid('malformed "aud"');
    if (auds.length === 0) throw invalid('token has no "aud"');
    if (auds.length > 1 && !this.#multiAud) throw invalid('token is for several audiences');
    if (!auds.includes(this.resource)) throw invalid('token is for another resource');
  }

  #putToken(k: string, e: TokenEntry, now: number): void {
    const m = this.#tokens;
    if (!m || !(now < e.exp)) return;
    if (m.size >= this.#tokenMax) {
      // Drop the expired entries, then the oldest, down to 90% of the bound: a flood of
      // distinct tokens costs one sweep per tenth of the cache rather than one per token.
      for (const [key, v] of m) if (!(now < v.exp)) m.delete(key);
      const target = this.#tokenMax - Math.floor(this.#tokenMax / 10) - 1;
      for (const key of m.keys()) {
        if (m.size <= target) break;
        m.delete(key);
      }
    }
    m.set(k, e);
  }

  // ---- keys --------------------------------------------------------------------------------

  // The public key named kid, fetching the JWKS when none is cached yet, when the kid is
  // unknown (at most once per UNKNOWN_KEY_REFETCH_INTERVAL), or when the set is older than
  // jwksMaxAge.
  async #key(kid: string): Promise<PublicKey> {
    const now = this.#now();
    const ks = this.#keys;
    const known = ks?.byId.get(kid);
    if (ks && known) {
      if (now - ks.fetchedAt < this.#jwksMaxAge) return known;
      // Stale but usable: refresh unless another request already is, and carry on with the
      // old set if the refresh fails.
      if (!this.#fetching) {
        this.#lastFetch = now;
        await this.#startFetch(now).catch((e) =>
          this.#log.error('gatehouse: refreshing the JWKS failed; keeping the cached keys', { url: this.#jwksUrl, error: String(e) }),
        );
      }
      const cur = this.#keys;
      if (cur === ks) return known;
      const k2 = cur?.byId.get(kid);
      if (!k2) throw invalid("the token's signing key is no longer published");
      return k2;
    }
    if (this.#fetching) {
      // Another request is fetching: its answer is the one to use.
      await this.#fetching.catch(() => undefined);
      const k = this.#keys?.byId.get(kid);
      if (k) return k;
      if (!this.#keys) throw unavailable("the issuer's keys could not be loaded");
      throw invalid('unknown signing key');
    }
    const interval = (ks ? UNKNOWN_KEY_REFETCH_INTERVAL : NO_KEYS_RETRY_INTERVAL) * 1000;
    if (this.#lastFetch !== undefined && now - this.#lastFetch < interval && now - this.#lastFetch >= 0) {
      if (!ks) throw unavailable("the issuer's keys could not be loaded");
      throw invalid('unknown signing key');
    }
    this.#lastFetch = now;
    try {
      await this.#startFetch(now);
    } catch (e) {
      this.#log.error('gatehouse: fetching the JWKS failed', { url: this.#jwksUrl, error: String(e) });
      if (!this.#keys) throw unavailable("the issuer's keys could not be loaded", e);
      throw invalid('unknown signing key');
    }
    const k = this.#keys?.byId.get(kid);
    if (!k) throw invalid('unknown signing key');
    return k;
  }

  #startFetch(now: number): Promise<void> {
    const p = this.#fetchKeys(now).finally(() => {
      if (this.#fetching === p) this.#fetching = undefined;
    });
    this.#fetching = p;
    return p;
  }

  async #fetchKeys(now: number): Promise<void> {
    const res = await this.#fetch(this.#jwksUrl, {
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      redirect: 'error',
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`GET ${this.#jwksUrl}: status ${res.status}`);
    }
    const body = await readLimited(res, MAX_JWKS_BYTES);
    const byId = await parseJWKS(body);
    const old = this.#keys;
    this.#keys = { byId, fetchedAt: now };
    if (old && this.#tokens) {
      // Tokens verified with a key that is no longer published must not outlive it in the cache.
      const gone = new Set([...old.byId.keys()].filter((kid) => !byId.has(kid)));
      if (gone.size) for (const [k, e] of this.#tokens) if (gone.has(e.kid)) this.#tokens.delete(k);
    }
  }

  // ---- API keys and sessions ---------------------------------------------------------------

  /**
   * Checks a Gatehouse API key (`ak_…`) through the introspection endpoint; needs
   * `acceptApiKeys`. Answers, good and bad, are cached for `introspectionCacheTtl` and never
   * beyond the key's expiry.
   */
  async verifyApiKey(key: string): Promise<Principal> {
    if (!this.#apiKeys) throw invalid('API keys are not accepted here');
    if (!key) throw new GatehouseAuthError('no_token', '');
    if (!key.startsWith(API_KEY_PREFIX) || key.length > MAX_TOKEN_LENGTH) throw invalid('not an API key');
    const k = await sha256Key(key);
    const now = this.#now();
    const hit = cached(this.#intro, k, now);
    if (hit) {
      if (hit.err) throw hit.err;
      return hit.p as Principal;
    }
    const [inr, all] = await this.#introspect(key);
    const e: ResultEntry = { until: now + this.#introTtl };
    const exp = numericDate(inr.exp);
    if (inr.active !== true) e.err = invalid('API key not active');
    else if (typeof inr.sub !== 'string' || !inr.sub || (inr.token_type !== undefined && inr.token_type !== 'api_key')) e.err = invalid('not an API key');
    else if (exp !== undefined && !(now < exp * 1000)) e.err = invalid('API key expired');
    else {
      e.p = makePrincipal({
        subject: inr.sub,
        clientId: undefined,
        scopes: splitScope(inr.scope),
        sessionId: undefined,
        email: typeof inr.email === 'string' && inr.email ? inr.email : undefined,
        act: undefined,
        org: undefined,
        keyId: typeof inr.key_id === 'string' && inr.key_id ? inr.key_id : undefined,
        tokenType: 'api_key',
        expiresAt: exp,
        claims: all,
      });
      if (exp !== undefined) e.until = Math.min(e.until, exp * 1000);
    }
    putResult(this.#intro, k, e, now);
    if (e.err) throw e.err;
    return e.p as Principal;
  }

  // Whether the session of a token that verified locally is still live. A live answer is
  // reused for sessionCacheTtl; a dead one until the token expires (a revoked session never
  // comes back).
  async #checkSession(k: string, token: string, p: Principal, now: number): Promise<void> {
    const hit = cached(this.#sess, k, now);
    if (hit) {
      if (hit.err) throw hit.err;
      return;
    }
    const [inr] = await this.#introspect(token);
    const exp = (p.expiresAt as number) * 1000;
    const e: ResultEntry = { until: now + this.#sessTtl };
    if (inr.active !== true) {
      e.err = invalid('token or session revoked');
      e.until = exp;
    } else if (inr.sub !== p.subject || (typeof inr.sid === 'string' && inr.sid && p.sessionId && inr.sid !== p.sessionId)) {
      e.err = invalid('introspection disagrees with the token');
      e.until = exp;
    }
    e.until = Math.min(e.until, exp);
    putResult(this.#sess, k, e, now);
    if (e.err) throw e.err;
  }

  async #introspect(token: string): Promise<[Introspection, Record<string, unknown>]> {
    let res: Response;
    try {
      res = await this.#fetch(this.#introUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-API-Key': this.#introKey },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (e) {
      this.#log.error('gatehouse: introspection failed', { url: this.#introUrl, error: String(e) });
      throw unavailable('introspection unreachable', e);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      // 401/403 here means this server's own key is wrong or lacks tokens:introspect.
      this.#log.error('gatehouse: introspection refused', { url: this.#introUrl, status: res.status });
      throw unavailable('introspection refused');
    }
    try {
      const all = JSON.parse(await readLimited(res, MAX_INTROSPECTION_BYTES));
      if (typeof all !== 'object' || all === null || Array.isArray(all)) throw new Error('not an object');
      return [all as Introspection, all as Record<string, unknown>];
    } catch (e) {
      throw unavailable('introspection answer malformed', e);
    }
  }

  // ---- requests ----------------------------------------------------------------------------

  /**
   * Verifies the credential of a request: an access token in `Authorization: Bearer`, or, with
   * `acceptApiKeys`, an API key in `X-API-Key` or `Authorization: Bearer ak_…`. Tokens in the
   * query string or the body are never read. Scopes are not checked here.
   */
  async authenticate(request: Request | { headers: Headers } | HeaderGetter): Promise<Principal> {
    const get: HeaderGetter = typeof request === 'function' ? request : (n) => request.headers.get(n);
    let bearer = '';
    const auth = get('authorization');
    if (auth !== null && auth !== undefined) {
      const m = /^([^ ]*) ?(.*)$/s.exec(auth) as RegExpExecArray;
      if ((m[1] as string).toLowerCase() === 'bearer') {
        bearer = (m[2] as string).trim();
        // A comma is how a second Authorization header shows after joining.
        if (!bearer || /[\s,]/.test(bearer)) throw invalid('malformed Authorization header');
      }
      // Another scheme (Basic…) is not a credential for this server: no token.
    }
    if (this.#apiKeys) {
      const key = get('x-api-key');
      if (key !== null && key !== undefined) {
        if (bearer || key.includes(',')) throw new GatehouseAuthError('invalid_request', 'more than one credential');
        return this.verifyApiKey(key.trim());
      }
    }
    if (!bearer) throw new GatehouseAuthError('no_token', '');
    if (bearer.startsWith(API_KEY_PREFIX)) return this.verifyApiKey(bearer);
    return this.verify(bearer);
  }

  /**
   * The fetch-style guard: the principal when the request's credential verifies and carries
   * every one of `scopes`, otherwise the `Response` to send (401/403/400/503 with its
   * challenge). `if (p instanceof Response) return p;`
   */
  async authorize(request: Request, scopes: readonly string[] = []): Promise<Principal | Response> {
    this.addScopes(...scopes);
    try {
      const p = await this.authenticate(request);
      if (!scopes.every((s) => p.scopes.includes(s))) throw insufficientScope(scopes);
      return p;
    } catch (e) {
      return this.errorResponse(e, scopes);
    }
  }

  /** Wraps a fetch-style handler so that it runs only for a credential with every one of `scopes`. */
  protect<A extends unknown[]>(
    scopes: readonly string[],
    handler: (request: Request, principal: Principal, ...rest: A) => Response | Promise<Response>,
  ): (request: Request, ...rest: A) => Promise<Response> {
    this.addScopes(...scopes);
    return async (request, ...rest) => {
      const p = await this.authorize(request, scopes);
      return p instanceof Response ? p : handler(request, p, ...rest);
    };
  }

  /**
   * The answer to a request whose credential `err` refused, for an operation that needs
   * `scopes` (RFC 6750 §3, the MCP authorization spec): no credential: 401 with
   * `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`; a bad one: the same plus
   * `error="invalid_token"`; missing scope: 403 `error="insufficient_scope"` naming every scope
   * needed; credentials sent two ways: 400; Gatehouse unreachable: 503 with `Retry-After`. The
   * body is JSON `{error, error_description}`, never the credential. Errors that are not
   * {@link GatehouseAuthError}s are thrown again.
   */
  errorAnswer(err: unknown, scopes: readonly string[] = []): Answer {
    if (!(err instanceof GatehouseAuthError)) throw err;
    const needed = err.scopes.length ? err.scopes : scopes;
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'Content-Type': 'application/json' };
    let status = 401;
    let code = 'invalid_token';
    switch (err.kind) {
      case 'no_token':
        code = '';
        break;
      case 'insufficient_scope':
        status = 403;
        code = 'insufficient_scope';
        break;
      case 'invalid_request':
        status = 400;
        code = 'invalid_request';
        break;
      case 'unavailable':
        status = 503;
        code = 'temporarily_unavailable';
        break;
    }
    if (status === 503) headers['Retry-After'] = '5';
    else headers['WWW-Authenticate'] = this.challenge(code, needed);
    const body = code
      ? { error: code, error_description: err.reason || 'invalid credential' }
      : { error: 'unauthorized', error_description: 'an access token is required' };
    return { status, headers, body: JSON.stringify(body) };
  }

  /** {@link Verifier.errorAnswer} as a `Response`. */
  errorResponse(err: unknown, scopes: readonly string[] = []): Response {
    const a = this.errorAnswer(err, scopes);
    return new Response(a.body, { status: a.status, headers: a.headers });
  }

  /**
   * The value of a `WWW-Authenticate` header for this resource: Bearer with resource_metadata
   * (RFC 9728 §5.1), scope when scopes are given, error when code is not empty.
   */
  challenge(code = '', scopes: readonly string[] = []): string {
    let s = `Bearer resource_metadata="${quoteSafe(this.metadataUrl)}"`;
    if (scopes.length) s += `, scope="${quoteSafe(scopes.join(' '))}"`;
    if (code) s += `, error="${quoteSafe(code)}"`;
    return s;
  }

  // ---- metadata ----------------------------------------------------------------------------

  /** Adds scopes to `scopes_supported` in the metadata (middleware does it for the scopes it needs). */
  addScopes(...scopes: string[]): void {
    for (const s of scopes) for (const one of s.split(/\s+/)) if (one) this.#scopes.add(one);
  }

  /** The RFC 9728 metadata: resource exactly as configured, the issuer as the one authorization server. */
  metadata(): ResourceMetadata {
    const m: ResourceMetadata = { resource: this.resource, authorization_servers: [this.issuer], bearer_methods_supported: ['header'] };
    if (this.#scopes.size) m.scopes_supported = [...this.#scopes];
    if (this.#resourceName) m.resource_name = this.#resourceName;
    return m;
  }

  /**
   * The answer to a request for the metadata, or `undefined` when the request's path is not one
   * of {@link Verifier.metadataPaths}: GET and HEAD get the JSON (CORS open: the document is
   * public and browser-based MCP clients read it), OPTIONS a preflight answer, others 405.
   */
  metadataAnswer(method: string, pathname: string): Answer | undefined {
    if (!this.metadataPaths.includes(pathname)) return undefined;
    const headers: Record<string, string> = { 'Access-Control-Allow-Origin': '*' };
    switch (method.toUpperCase()) {
      case 'GET':
      case 'HEAD':
        headers['Content-Type'] = 'application/json';
        headers['Cache-Control'] = 'public, max-age=300';
        return { status: 200, headers, body: method.toUpperCase() === 'HEAD' ? '' : JSON.stringify(this.metadata()) };
      case 'OPTIONS':
        headers['Access-Control-Allow-Methods'] = 'GET, HEAD, OPTIONS';
        headers['Access-Control-Allow-Headers'] = '*';
        return { status: 204, headers, body: '' };
      default:
        headers.Allow = 'GET, HEAD, OPTIONS';
        return { status: 405, headers, body: 'method not allowed' };
    }
  }

  /** {@link Verifier.metadataAnswer} for a `Request`, as a `Response` (or `undefined`). */
  metadataResponse(request: Request): Response | undefined {
    const a = this.metadataAnswer(request.method, new URL(request.url).pathname);
    if (!a) return undefined;
    return new Response(a.status === 204 || a.body === '' ? null : a.body, { status: a.status, headers: a.headers });
  }

  /**
   * The MCP TypeScript SDK's `AuthInfo` for a principal: `clientId`, `scopes`, `expiresAt`,
   * `resource` and, in `extra`, `sub` and the principal itself. An API key without expiry
   * gets the end of its cached answer as `expiresAt` (the SDK requires one).
   */
  authInfo(p: Principal, token: string): AuthInfo {
    return {
      token,
      clientId: p.clientId ?? '',
      scopes: [...p.scopes],
      expiresAt: p.expiresAt ?? Math.floor(this.#now() / 1000) + Math.max(1, Math.ceil(this.#introTtl / 1000)),
      resource: new URL(this.resource),
      extra: { sub: p.subject, principal: p },
    };
  }
}

// ---- helpers -----------------------------------------------------------------------------

function ttl(v: number | undefined, def: number): number {
  if (v === undefined || v === 0) return def * 1000;
  return v < 0 ? 0 : v * 1000;
}

function cached(m: Map<string, ResultEntry>, k: string, now: number): ResultEntry | undefined {
  const e = m.get(k);
  if (!e) return undefined;
  if (now < e.until) return e;
  m.delete(k);
  return undefined;
}

function putResult(m: Map<string, ResultEntry>, k: string, e: ResultEntry, now: number): void {
  if (!(now < e.until)) return;
  if (m.size >= DEFAULT_TOKEN_CACHE_SIZE) {
    for (const [key, v] of m) if (!(now < v.until)) m.delete(key);
    for (const key of m.keys()) {
      if (m.size < DEFAULT_TOKEN_CACHE_SIZE) break;
      m.delete(key);
    }
  }
  m.set(k, e);
}

function checkHttpUrl(field: string, s: unknown): URL {
  let u: URL | undefined;
  try {
    u = new URL(String(s));
  } catch {
    u = undefined;
  }
  if (typeof s !== 'string' || !u || (u.protocol !== 'https:' && u.protocol !== 'http:') || !u.host) {
    throw new Error(`gatehouse: ${field} ${JSON.stringify(s)} is not an absolute http(s) URL`);
  }
  return u;
}

function checkIssuer(s: unknown): void {
  if (!s) throw new Error('gatehouse: options.issuer is required');
  checkHttpUrl('issuer', s);
  // Issuers are compared as strings (RFC 8414 §3.3): trimming would hide a mismatch that then
  // refuses every token, so say so now.
  if ((s as string).endsWith('/')) throw new Error(`gatehouse: issuer ${JSON.stringify(s)} must not end with a slash (Gatehouse's issuer is its public URL without one)`);
}

function checkResource(s: unknown): URL {
  if (!s) throw new Error('gatehouse: options.resource is required');
  const u = checkHttpUrl('resource', s);
  if ((s as string).includes('#')) throw new Error(`gatehouse: resource ${JSON.stringify(s)} must not have a fragment (RFC 8707 §2)`);
  if ((s as string).includes('?')) throw new Error(`gatehouse: resource ${JSON.stringify(s)} must not have a query`);
  return u;
}

/** Whether a JWS `typ` names RFC 9068 access tokens (case-insensitive; "application/" optional). */
export function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return t === 'at+jwt' || t === 'application/at+jwt';
}

function numericDate(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e11) return undefined;
  return v;
}

function splitScope(s: unknown): string[] {
  return typeof s === 'string' ? s.split(/\s+/).filter(Boolean) : [];
}

// Drops what cannot stand in an RFC 9110 quoted-string without escaping (scope tokens and URLs
// never contain these; RFC 6749 §3.3 forbids '"' and '\' in scopes).
function quoteSafe(s: string): string {
  return s.replace(/["\\\x00-\x1f\x7f]/g, '');
}

async function readLimited(res: Response, max: number): Promise<string> {
  const len = Number(res.headers.get('content-length'));
  if (len > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error('answer too large');
  }
  const buf = new Uint8Array(await res.arrayBuffer());
  if (buf.byteLength > max) throw new Error('answer too large');
  return new TextDecoder().decode(buf);
}

// The usable signature keys of a JWKS document: public, asymmetric, with a kid, "use" absent
// or "sig", and an algorithm that fits the key. Keys it cannot use are skipped rather than
// failing the whole set, so that a new kind of key published next to the current ones does not
// stop verification. Two keys under one kid are both dropped.
async function parseJWKS(body: string): Promise<Map<string, PublicKey>> {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    throw new Error(`JWKS is not JSON: ${e}`);
  }
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error('JWKS has no "keys" array');
  const byId = new Map<string, PublicKey | null>();
  for (const jwk of keys as JWK[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const kid = jwk.kid;
    if (typeof kid !== 'string' || !kid || (jwk.use !== undefined && jwk.use !== 'sig') || 'd' in jwk) continue;
    const alg = keyAlg(jwk);
    if (!alg) continue;
    let key: CryptoKey | Uint8Array;
    try {
      key = await importJWK({ ...jwk, alg, ext: true }, alg);
    } catch {
      continue; // an unsupported or malformed key
    }
    byId.set(kid, byId.has(kid) ? null : { key, alg });
  }
  const out = new Map<string, PublicKey>();
  for (const [kid, k] of byId) if (k) out.set(kid, k);
  return out;
}

// The algorithm a key verifies: its "alg" when published (and only if it fits the key),
// otherwise the one its type implies (EC curves and Ed25519 imply exactly one; RSA keys
// without "alg" are taken as RS256).
function keyAlg(jwk: JWK): string | undefined {
  let implied: string[] = [];
  if (jwk.kty === 'EC' && typeof jwk.crv === 'string' && EC_ALGS[jwk.crv]) implied = [EC_ALGS[jwk.crv] as string];
  else if (jwk.kty === 'RSA') {
    // RSA keys under 2048 bits are refused (jose checks the modulus length when verifying).
    implied = RSA_ALGS;
  } else if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') implied = ['EdDSA', 'Ed25519'];
  if (!implied.length) return undefined;
  if (jwk.alg === undefined) return implied[0];
  return implied.includes(jwk.alg) ? jwk.alg : undefined;
}

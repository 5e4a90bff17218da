// Access-token verification: signature against Gatehouse's JWKS, pinned algorithms, issuer,
// audience and `typ: at+jwt`, expiry with no clock tolerance. Tokens are never merely decoded.
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from 'jose';
import type { ResolvedConfig } from './config.js';

/** The claims of a Gatehouse access token. */
export interface AccessClaims extends JWTPayload {
  sub: string;
  exp: number;
  iat: number;
  sid?: string;
  email?: string;
  email_verified?: boolean;
  role?: string;
  /** The active organization of the session (Gatehouse organizations). */
  org_id?: string;
  org_role?: string;
  org_permissions?: string[];
  /** Who acts for the user (RFC 8693 `act`): an agent, or a Gatehouse admin impersonating the user. */
  act?: { sub: string; act?: unknown };
}

export type VerifyResult =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' }
  | { ok: false; reason: 'unavailable'; error: unknown };

/** Error codes that say "this token is bad", as opposed to "the keys could not be fetched". */
const INVALID_CODES = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWS_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWK_INVALID',
]);

const MAX_TOKEN_LENGTH = 8192;

export type Verifier = (token: string | undefined | null) => Promise<VerifyResult>;

export function createVerifier(cfg: ResolvedConfig): Verifier {
  const jwks = createRemoteJWKSet(new URL(cfg.jwksUrl), {
    timeoutDuration: cfg.timeoutMs,
    // A token with an unknown kid triggers a refetch at most this often (Gatehouse publishes a new
    // key before it signs with it, so a short cooldown only matters right after a rotation).
    cooldownDuration: 5000,
    cacheMaxAge: 10 * 60 * 1000,
    [customFetch]: (url: string, init: RequestInit) => cfg.fetch(url, { ...init, cache: 'no-store' }),
  });
  return async (token) => {
    if (!token) return { ok: false, reason: 'missing' };
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) return { ok: false, reason: 'invalid' };
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: cfg.issuer,
        audience: cfg.audience,
        algorithms: cfg.algorithms,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, reason: 'invalid' };
      return { ok: true, claims: payload as AccessClaims };
    } catch (e) {
      if (e instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
      const code = (e as { code?: string })?.code;
      if (e instanceof errors.JOSEError && code && INVALID_CODES.has(code)) return { ok: false, reason: 'invalid' };
      // JWKS fetch failures: network errors, timeouts, non-200, unparsable or invalid key sets.
      return { ok: false, reason: 'unavailable', error: e };
    }
  };
}

/** Seconds before expiry at which a GET with a refresh cookie renews the session early, so that the
 * page's own re-verification (auth()) a moment later never sees an expired token. At most half of the
 * token's lifetime, so short-lived tokens are not refreshed on every request. */
export function shouldRenewEarly(claims: AccessClaims, thresholdSeconds: number): boolean {
  const now = Date.now() / 1000;
  const lifetime = claims.exp - claims.iat;
  const window = Math.min(thresholdSeconds, lifetime / 2);
  return claims.exp - now < window;
}

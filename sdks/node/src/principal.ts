import { insufficientScope } from './errors.js';

/** A JWT access token verified locally, or a Gatehouse API key checked by introspection. */
export type TokenType = 'access_token' | 'api_key';

/**
 * Who a verified credential speaks for. Principals of cached tokens are shared between
 * requests, so they are frozen.
 */
export interface Principal {
  /** The `sub` claim: the user's id (the client's for client_credentials tokens). */
  readonly subject: string;
  /** The OAuth client the token was issued to (`client_id`); undefined for API keys and first-party tokens. */
  readonly clientId: string | undefined;
  /** The granted scopes, from the space-separated `scope` claim. */
  readonly scopes: readonly string[];
  /** The Gatehouse session (`sid`); undefined for API keys. */
  readonly sessionId: string | undefined;
  /** The user's email when the credential carries one. */
  readonly email: string | undefined;
  /** The API key's id for `api_key` principals; undefined for access tokens. */
  readonly keyId: string | undefined;
  readonly tokenType: TokenType;
  /** When the credential stops being valid, in seconds since the epoch (undefined: an API key without expiry). */
  readonly expiresAt: number | undefined;
  /** Every claim of the token (for an API key: the introspection answer). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Whether `p` was granted every one of `scopes`. */
export function hasScopes(p: Principal | undefined | null, ...scopes: string[]): boolean {
  return !!p && scopes.every((s) => p.scopes.includes(s));
}

/**
 * Throws an `insufficient_scope` {@link GatehouseAuthError} naming all of `scopes` (RFC 6750
 * §3.1 wants the whole set the operation needs, not only the missing ones) unless `p` has
 * every one of them.
 */
export function requireScopes(p: Principal | undefined | null, ...scopes: string[]): void {
  if (!hasScopes(p, ...scopes)) throw insufficientScope(scopes);
}

/** The granted scopes as the space-separated string of the `scope` claim. */
export function scopeString(p: Principal): string {
  return p.scopes.join(' ');
}

export function makePrincipal(fields: Omit<Principal, 'scopes' | 'claims'> & { scopes: string[]; claims: Record<string, unknown> }): Principal {
  return Object.freeze({ ...fields, scopes: Object.freeze(fields.scopes), claims: Object.freeze(fields.claims) });
}

/**
 * The `AuthInfo` of the official MCP TypeScript SDK (`@modelcontextprotocol/sdk`), declared here
 * so that the kit does not depend on the SDK: tool handlers find it as `extra.authInfo`.
 */
export interface AuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  extra?: Record<string, unknown>;
}

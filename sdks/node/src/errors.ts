/**
 * The kinds of failure. Every error the kit throws is a {@link GatehouseAuthError} with one of
 * these kinds; {@link Verifier.errorAnswer} turns each into its HTTP answer:
 *
 * - `no_token`: the request carries no credential this server reads (401 without an error
 *   code, RFC 6750 §3.1). Tokens in the query string or the body are never read.
 * - `invalid_token`: a credential was presented but is malformed, expired, not signed by the
 *   issuer, issued for another resource, revoked… (401 `error="invalid_token"`).
 * - `insufficient_scope`: the credential is good but lacks a scope the operation needs (403).
 * - `invalid_request`: credentials sent in more than one way (400 `error="invalid_request"`).
 * - `unavailable`: Gatehouse's keys or its introspection endpoint could not be reached, so the
 *   credential could be neither accepted nor refused (503 with `Retry-After`).
 */
export type ErrorKind = 'no_token' | 'invalid_token' | 'insufficient_scope' | 'invalid_request' | 'unavailable';

/**
 * A refused credential. `reason` is a short fixed description, safe to show to the client (it
 * never contains the credential); `scopes` the scopes the operation needs (insufficient_scope);
 * `cause` the underlying error if any (not shown to clients).
 */
export class GatehouseAuthError extends Error {
  readonly kind: ErrorKind;
  readonly reason: string;
  readonly scopes: readonly string[];

  constructor(kind: ErrorKind, reason: string, options: { scopes?: readonly string[]; cause?: unknown } = {}) {
    super(reason ? `gatehouse: ${kind}: ${reason}` : `gatehouse: ${kind}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseAuthError';
    this.kind = kind;
    this.reason = reason;
    this.scopes = Object.freeze([...(options.scopes ?? [])]);
  }
}

export const invalid = (reason: string, cause?: unknown) => new GatehouseAuthError('invalid_token', reason, { cause });
export const unavailable = (reason: string, cause?: unknown) => new GatehouseAuthError('unavailable', reason, { cause });
export const insufficientScope = (needed: readonly string[]) =>
  new GatehouseAuthError('insufficient_scope', 'the token lacks a scope this operation needs', { scopes: needed });

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
  /**
   * The actor chain of a delegated token (`act`, RFC 8693 §4.1): the agent acting for the user
   * named by `subject`, with its own actor nested for a chain. Undefined when nobody acts for
   * the subject (and always for API keys).
   */
  readonly act: Actor | undefined;
  /**
   * The organization the user acts in (`org_id`, `org_role`, `org_permissions` of a session with
   * an active organization); undefined when the token names none. Its permissions are the
   * organization's, separate from `scopes`.
   */
  readonly org: Org | undefined;
  /** The API key's id for `api_key` principals; undefined for access tokens. */
  readonly keyId: string | undefined;
  readonly tokenType: TokenType;
  /** When the credential stops being valid, in seconds since the epoch (undefined: an API key without expiry). */
  readonly expiresAt: number | undefined;
  /** Every claim of the token (for an API key: the introspection answer). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** One link of an actor chain: who acts (`sub`: an agent's client_id), and who acted before it. */
export interface Actor {
  readonly sub: string;
  readonly act?: Actor;
}

/** The organization a principal acts in, and the user's role and permissions there. */
export interface Org {
  /** `org_id` */
  readonly id: string;
  /** `org_role`: owner, admin, member or a custom role; undefined when the token carries none. */
  readonly role: string | undefined;
  /** `org_permissions` */
  readonly permissions: readonly string[];
}

/** The deepest actor chain Gatehouse signs. */
export const MAX_ACTOR_DEPTH = 3;

/** Whether an agent acts for the principal's user (the token carries `act`). */
export function isDelegated(p: Principal | undefined | null): boolean {
  return !!p && p.act !== undefined;
}

/** The number of actors in a chain. */
export function actorDepth(a: Actor | undefined): number {
  let n = 0;
  for (; a; a = a.act) n++;
  return n;
}

/**
 * Whether `p` holds `permission` in its active organization (`org_permissions`, exact match).
 * Scopes do not count: a token's scopes say what it may do at all, the organization's
 * permissions what the user may do in that organization.
 */
export function hasPermission(p: Principal | undefined | null, permission: string): boolean {
  return !!p && !!p.org && !!permission && p.org.permissions.includes(permission);
}

/** Whether `p` has `role` in its active organization. */
export function hasOrgRole(p: Principal | undefined | null, role: string): boolean {
  return !!p && !!p.org && !!role && p.org.role === role;
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
  const org = fields.org && Object.freeze({ ...fields.org, permissions: Object.freeze([...fields.org.permissions]) });
  return Object.freeze({ ...fields, act: freezeActor(fields.act), org, scopes: Object.freeze(fields.scopes), claims: Object.freeze(fields.claims) });
}

function freezeActor(a: Actor | undefined): Actor | undefined {
  if (!a) return undefined;
  return Object.freeze(a.act ? { sub: a.sub, act: freezeActor(a.act) } : { sub: a.sub });
}

/** The `act` claim read strictly: undefined when absent (or JSON null); null when malformed or deeper than Gatehouse signs. */
export function readActor(v: unknown): Actor | undefined | null {
  if (v === undefined || v === null) return undefined;
  let a: unknown = v;
  for (let depth = 0; a !== undefined; depth++) {
    if (depth >= MAX_ACTOR_DEPTH || typeof a !== 'object' || a === null || Array.isArray(a)) return null;
    const o = a as Record<string, unknown>;
    if (typeof o.sub !== 'string' || !o.sub) return null;
    a = o.act;
  }
  return v as Actor;
}

/** The organization claims read strictly: undefined when the token names none; null when malformed. */
export function readOrg(c: Record<string, unknown>): Org | undefined | null {
  const { org_id: id, org_role: role, org_permissions: perms } = c;
  if (id !== undefined && typeof id !== 'string') return null;
  if (role !== undefined && typeof role !== 'string') return null;
  if (perms !== undefined && (!Array.isArray(perms) || perms.some((x) => typeof x !== 'string'))) return null;
  if (!id) return undefined;
  return { id, role: (role as string) || undefined, permissions: (perms as string[] | undefined) ?? [] };
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

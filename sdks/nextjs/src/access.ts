// Runtime-neutral pieces shared by the middleware and the server helpers: the session object built
// from a verified result, and the role/scope check (has()). No Node APIs: the middleware may run on
// the Edge runtime.
import type { AuthResult } from './core.js';
import type { AccessClaims } from './verify.js';
import type { GatehouseActor, GatehouseOrg, GatehouseSession } from './session.js';

/** What has() (and protect()) check. Every option given must hold. */
export interface HasOptions {
  /** Any of these Gatehouse account roles (`user`, `admin`). Only a user session has a role: an API
   * key acts with its scopes, never with its owner's role (Gatehouse itself gives a key admin rights
   * only with the admin scope). An organization role never counts here: see `orgRole`. */
  role?: string | string[];
  /** Any of these roles in the session's active organization (`org_role`: owner, admin, member or
   * a custom role). */
  orgRole?: string | string[];
  /** All of these permissions in the session's active organization (`org_permissions`). Scopes
   * never count as permissions. */
  permission?: string | string[];
  /** All of these API-key scopes (kind `api_key`). */
  scope?: string | string[];
}

/** Whether a session has a role (any of those given), an organization role (any), organization
 * permissions (all) and scopes (all). Matches are exact; a session without an active organization
 * has no organization role and no permission. */
export function has(session: GatehouseSession<object> | null | undefined, o: HasOptions): boolean {
  if (!session) return false;
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
  const roles = list(o.role);
  if (roles && !(session.kind === 'session' && session.user.role !== undefined && roles.includes(session.user.role))) return false;
  const org = session.kind === 'session' ? session.org : undefined;
  const orgRoles = list(o.orgRole);
  if (orgRoles && !(org?.role !== undefined && orgRoles.includes(org.role))) return false;
  const permissions = list(o.permission);
  if (permissions && !(org && permissions.length > 0 && permissions.every((x) => x !== '' && org.permissions.includes(x)))) return false;
  const scopes = list(o.scope);
  if (scopes && !scopes.every((x) => session.scopes.includes(x))) return false;
  return true;
}

/** The organization claims of a verified token, or undefined when it names none. Malformed claims
 * (wrong JSON types) give none: fail closed. */
export function orgOf(c: AccessClaims): GatehouseOrg | undefined {
  const { org_id: id, org_role: role, org_permissions: perms } = c as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') return undefined;
  if (role !== undefined && typeof role !== 'string') return undefined;
  if (perms !== undefined && (!Array.isArray(perms) || perms.some((p) => typeof p !== 'string'))) return undefined;
  return { id, ...(role ? { role } : {}), permissions: [...((perms as string[] | undefined) ?? [])] };
}

/** The actor chain of a verified token (`act`), or undefined; a malformed or deeper than Gatehouse
 * signs (3) chain gives none. */
export function actorOf(c: AccessClaims): GatehouseActor | undefined {
  const links: string[] = [];
  for (let a: unknown = (c as Record<string, unknown>).act; a !== undefined && a !== null; ) {
    if (links.length >= 3 || typeof a !== 'object' || Array.isArray(a)) return undefined;
    const o = a as Record<string, unknown>;
    if (typeof o.sub !== 'string' || o.sub === '') return undefined;
    links.push(o.sub);
    a = o.act;
  }
  let chain: GatehouseActor | undefined;
  for (const sub of links.reverse()) chain = chain ? { sub, act: chain } : { sub };
  return chain;
}

/** The session object of a verified result (without the access token), or null. */
export function toSession(r: AuthResult): GatehouseSession | null {
  if (r.kind === 'session') {
    const c = r.claims;
    return {
      kind: 'session',
      user: {
        id: c.sub,
        email: typeof c.email === 'string' ? c.email : undefined,
        emailVerified: typeof c.email_verified === 'boolean' ? c.email_verified : undefined,
        role: typeof c.role === 'string' ? c.role : undefined,
      },
      sessionId: typeof c.sid === 'string' ? c.sid : undefined,
      scopes: [],
      ...optional('org', orgOf(c)),
      ...optional('actor', actorOf(c)),
      expiresAt: new Date(c.exp * 1000),
      claims: c,
    };
  }
  if (r.kind === 'api_key') {
    const i = r.introspection;
    return {
      kind: 'api_key',
      user: { id: i.sub!, email: i.email, role: i.role },
      keyId: i.key_id,
      scopes: r.scopes,
      expiresAt: typeof i.exp === 'number' ? new Date(i.exp * 1000) : undefined,
    };
  }
  return null;
}

/** `{ [key]: value }`, or nothing when value is undefined: a session object holds no undefined
 * fields (it may be serialised into a page's props). */
function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [k in K]: V });
}

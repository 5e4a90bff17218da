// Runtime-neutral pieces shared by the middleware and the server helpers: the session object built
// from a verified result, and the role/scope check (has()). No Node APIs: the middleware may run on
// the Edge runtime.
import type { AuthResult } from './core.js';
import type { GatehouseSession } from './session.js';

/** What has() (and protect()) check. */
export interface HasOptions {
  /** Any of these roles. Only a user session has a role: an API key acts with its scopes, never
   * with its owner's role (Gatehouse itself gives a key admin rights only with the admin scope). */
  role?: string | string[];
  /** All of these API-key scopes (kind `api_key`). */
  scope?: string | string[];
}

/** Whether a session has a role (any of those given) and scopes (all of those given). */
export function has(session: GatehouseSession<object> | null | undefined, o: HasOptions): boolean {
  if (!session) return false;
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
  const roles = list(o.role);
  if (roles && !(session.kind === 'session' && session.user.role !== undefined && roles.includes(session.user.role))) return false;
  const scopes = list(o.scope);
  if (scopes && !scopes.every((x) => session.scopes.includes(x))) return false;
  return true;
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

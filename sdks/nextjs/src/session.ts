// The session object: what auth() answers. Types only, shared by the server and react entries.
import type { AccessClaims } from './verify.js';

/**
 * The identity behind a request, verified by auth(). `Claims` types the extra claims your
 * Gatehouse puts in access tokens (`createGatehouse<{ org_id: string }>()`, `auth<MyClaims>()`,
 * `useSession<MyClaims>()`): a compile-time description, not a runtime check.
 */
/** The organization a session acts in: the `org_id`, `org_role` and `org_permissions` claims. */
export interface GatehouseOrg {
  id: string;
  /** `owner`, `admin`, `member` or a custom role; absent when the token carries none. */
  role?: string;
  /** The user's permissions in the organization (separate from API-key scopes). */
  permissions: string[];
}

/** One link of an actor chain (`act`, RFC 8693): who acts for the user, and who acted before. */
export interface GatehouseActor {
  sub: string;
  act?: GatehouseActor;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface GatehouseSession<Claims extends object = {}> {
  /** `session`: a user's access token (cookie or Bearer). `api_key`: a machine caller's key. */
  kind: 'session' | 'api_key';
  user: {
    id: string;
    email?: string;
    emailVerified?: boolean;
    role?: string;
  };
  /** Gatehouse session id (kind `session`). */
  sessionId?: string;
  /** API key id (kind `api_key`). */
  keyId?: string;
  /** Scopes of the API key (kind `api_key`); empty for user sessions. */
  scopes: string[];
  /**
   * The session's active organization (kind `session`), from the access token's `org_id`,
   * `org_role` and `org_permissions`; absent when it names none (or the claims are malformed).
   * Switch it with the `active-org` route handler (`switchOrg`).
   */
  org?: GatehouseOrg;
  /**
   * Who acts for the user (the token's `act`, kind `session`): a Gatehouse admin impersonating
   * the user for support (`actor.sub` is the admin's id), or an agent acting through token
   * exchange. Absent for the user's own sessions: show a banner when it is set.
   */
  actor?: GatehouseActor;
  /** When the access token (or key) expires. */
  expiresAt?: Date;
  // No access token here: a session object handed to a Client Component is serialised into the
  // page's HTML. Server code that needs the token calls getToken().
  /** All verified claims of the access token (kind `session`). */
  claims?: AccessClaims & Claims;
}

// The session object: what auth() answers. Types only, shared by the server and react entries.
import type { AccessClaims } from './verify.js';

/**
 * The identity behind a request, verified by auth(). `Claims` types the extra claims your
 * Gatehouse puts in access tokens (`createGatehouse<{ org_id: string }>()`, `auth<MyClaims>()`,
 * `useSession<MyClaims>()`): a compile-time description, not a runtime check.
 */
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
  /** When the access token (or key) expires. */
  expiresAt?: Date;
  // No access token here: a session object handed to a Client Component is serialised into the
  // page's HTML. Server code that needs the token calls getToken().
  /** All verified claims of the access token (kind `session`). */
  claims?: AccessClaims & Claims;
}

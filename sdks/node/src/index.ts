/**
 * @gatehouse/resource: accept Gatehouse access tokens in any API or MCP server (Node and Edge
 * runtimes). See the README for the checks it makes and the answers it gives.
 */
export {
  Verifier,
  isAccessTokenType,
  API_KEY_PREFIX,
  DEFAULT_INTROSPECTION_CACHE_TTL,
  DEFAULT_JWKS_MAX_AGE,
  DEFAULT_LEEWAY,
  DEFAULT_SESSION_CACHE_TTL,
  DEFAULT_TOKEN_CACHE_SIZE,
  MAX_LEEWAY,
  UNKNOWN_KEY_REFETCH_INTERVAL,
} from './verifier.js';
export type { Answer, HeaderGetter, Logger, ResourceMetadata, VerifierOptions } from './verifier.js';
export { GatehouseAuthError } from './errors.js';
export type { ErrorKind } from './errors.js';
export { MAX_ACTOR_DEPTH, actorDepth, hasOrgRole, hasPermission, hasScopes, isDelegated, requireScopes, scopeString } from './principal.js';
export type { Actor, AuthInfo, Org, Principal, TokenType } from './principal.js';

// `@gatehouse/next-sdk`: runtime-neutral pieces. The middleware lives in `@gatehouse/next-sdk/middleware`,
// the server helpers in `@gatehouse/next-sdk/server`.
export {
  createMiddleware,
  createRouteMatcher,
  type MiddlewareOptions,
  type GatehouseMiddleware,
  type MiddlewareAuth,
  type MiddlewareCallback,
  type ProtectOptions,
  type RouteMatcherParam,
} from './middleware.js';
export { has, type HasOptions } from './access.js';
export { safeRedirect } from './redirect.js';
export { IdentityHeaders } from './identity.js';
export { DEFAULT_ACCESS_COOKIE, DEFAULT_REFRESH_COOKIE, GatehouseConfigError, type GatehouseOptions, type CookieNameOptions, type FetchLike } from './config.js';
export { GatehouseUnavailableError, GatehouseResponseError, type TokenResponse, type GatehouseUserObject, type Introspection, type ActiveOrgResponse } from './client.js';
export type { GatehouseOrg, GatehouseActor } from './session.js';
export type { AccessClaims } from './verify.js';
export type { GatehouseSession, GatehouseConfig, ServerOptions, AuthOptions, RequireUserOptions, Gatehouse, GatehouseMiddlewareFactory } from './server.js';

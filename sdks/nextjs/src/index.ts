// `@gatehouse/next-sdk`: runtime-neutral pieces. The middleware lives in `@gatehouse/next-sdk/middleware`,
// the server helpers in `@gatehouse/next-sdk/server`.
export { createMiddleware, type MiddlewareOptions, type GatehouseMiddleware } from './middleware.js';
export { safeRedirect } from './redirect.js';
export { IdentityHeaders } from './identity.js';
export { DEFAULT_ACCESS_COOKIE, DEFAULT_REFRESH_COOKIE, GatehouseConfigError, type GatehouseOptions, type CookieNameOptions, type FetchLike } from './config.js';
export { GatehouseUnavailableError, GatehouseResponseError, type TokenResponse, type GatehouseUserObject, type Introspection } from './client.js';
export type { AccessClaims } from './verify.js';
export type { GatehouseSession, GatehouseConfig, ServerOptions, AuthOptions, RequireUserOptions } from './server.js';

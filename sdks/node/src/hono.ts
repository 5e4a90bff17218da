/**
 * Hono glue. Structural types only: this module imports nothing from Hono.
 *
 *   const app = new Hono<GatehouseEnv>();
 *   app.get('/.well-known/*', gatehouseMetadata(v));
 *   app.use('/reports/*', gatehouseAuth(v, ['reports:read']));
 *   app.get('/reports', (c) => c.json({ sub: c.get('gatehouse').subject }));
 */
import type { Principal } from './principal.js';
import type { Verifier } from './verifier.js';

/** The Hono environment the middleware fills: `c.get('gatehouse')` is the principal. */
export type GatehouseEnv = { Variables: { gatehouse: Principal } };

/** The parts of a Hono context the kit uses. */
export interface HonoLikeContext {
  req: { raw: Request };
  set(key: 'gatehouse', value: Principal): void;
}

/**
 * Middleware that lets a request through only with a credential that verifies and carries every
 * one of `scopes`; the handler finds the principal with `c.get('gatehouse')`.
 */
export function gatehouseAuth(v: Verifier, scopes: readonly string[] = []) {
  v.addScopes(...scopes);
  return async (c: HonoLikeContext, next: () => Promise<void>): Promise<Response | void> => {
    const p = await v.authorize(c.req.raw, scopes);
    if (p instanceof Response) return p;
    c.set('gatehouse', p);
    await next();
  };
}

/** A handler serving the RFC 9728 metadata at `v.metadataPaths`; other paths fall through. */
export function gatehouseMetadata(v: Verifier) {
  return async (c: { req: { raw: Request } }, next: () => Promise<void>): Promise<Response | void> => {
    const r = v.metadataResponse(c.req.raw);
    if (r) return r;
    await next();
  };
}

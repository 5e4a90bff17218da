/**
 * Express (4 and 5) glue. Structural types only: this module imports nothing from Express.
 *
 *   app.get(v.metadataPaths, gatehouseMetadata(v));
 *   app.use('/reports', gatehouseAuth(v, ['reports:read']), (req, res) => res.json(req.gatehouse));
 */
import { GatehouseAuthError, insufficientScope } from './errors.js';
import type { AuthInfo, Principal } from './principal.js';
import type { Answer, Verifier } from './verifier.js';

/** The parts of an Express (or node:http) request the kit reads and sets. */
export interface ExpressLikeRequest {
  method: string;
  path?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  /** The principal, set by {@link gatehouseAuth}. */
  gatehouse?: Principal;
  /** The MCP TypeScript SDK's AuthInfo, set by {@link gatehouseAuth}: the SDK's transports pass it to tool handlers as `extra.authInfo`. */
  auth?: AuthInfo;
}

/** The parts of an Express response the kit writes. */
export interface ExpressLikeResponse {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

export type ExpressNext = (err?: unknown) => void;

function header(req: ExpressLikeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function send(res: ExpressLikeResponse, a: Answer): void {
  res.status(a.status);
  for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
  res.end(a.body);
}

/**
 * Middleware that lets a request through only with a credential that verifies and carries every
 * one of `scopes`; then `req.gatehouse` is the principal and `req.auth` the MCP SDK's AuthInfo.
 * Refusals are answered with the kit's challenges. The scopes join the metadata's
 * `scopes_supported`.
 */
export function gatehouseAuth(v: Verifier, scopes: readonly string[] = []) {
  v.addScopes(...scopes);
  return async (req: ExpressLikeRequest, res: ExpressLikeResponse, next: ExpressNext): Promise<void> => {
    let p: Principal;
    try {
      p = await v.authenticate((n) => header(req, n));
      if (!scopes.every((s) => p.scopes.includes(s))) throw insufficientScope(scopes);
    } catch (e) {
      if (!(e instanceof GatehouseAuthError)) return next(e);
      return send(res, v.errorAnswer(e, scopes));
    }
    req.gatehouse = p;
    const auth = header(req, 'authorization');
    const token = auth && /^bearer /i.test(auth) ? auth.slice(7).trim() : (header(req, 'x-api-key') ?? '').trim();
    req.auth = v.authInfo(p, token);
    next();
  };
}

/** A handler for the RFC 9728 metadata: mount it at `v.metadataPaths` (`app.all(v.metadataPaths, …)`). */
export function gatehouseMetadata(v: Verifier) {
  return (req: ExpressLikeRequest, res: ExpressLikeResponse, next: ExpressNext): void => {
    const path = req.path ?? new URL(req.url ?? '/', 'http://x').pathname;
    const a = v.metadataAnswer(req.method, path);
    if (!a) return next();
    send(res, a);
  };
}

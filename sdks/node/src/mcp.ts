/**
 * Adapter for the official MCP TypeScript SDK (`@modelcontextprotocol/sdk`, an optional peer
 * dependency): an `OAuthTokenVerifier` for its `requireBearerAuth` middleware.
 *
 *   app.use('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(v), requiredScopes: ['mcp:tools'],
 *     resourceMetadataUrl: v.metadataUrl }));
 *
 * The SDK's middleware answers a missing token with error="invalid_token" and does not know
 * the kit's 503; the kit's own Express middleware (`@gatehouse/resource/express`), which also
 * sets `req.auth`, gives the exact RFC 6750 answers and is preferred.
 */
import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { GatehouseAuthError } from './errors.js';
import { API_KEY_PREFIX, type Verifier } from './verifier.js';

/**
 * An `OAuthTokenVerifier` backed by the kit: access tokens (and, with `acceptApiKeys`, API
 * keys sent as Bearer) become `AuthInfo` with `clientId`, `scopes`, `expiresAt`, `resource`,
 * and `extra.sub` / `extra.principal`. Refusals throw the SDK's `InvalidTokenError`; an
 * unreachable Gatehouse its `ServerError`.
 */
export function mcpTokenVerifier(v: Verifier): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        const p = token.startsWith(API_KEY_PREFIX) ? await v.verifyApiKey(token) : await v.verify(token);
        return v.authInfo(p, token);
      } catch (e) {
        if (e instanceof GatehouseAuthError) {
          if (e.kind === 'unavailable') throw new ServerError('authorization server unavailable');
          throw new InvalidTokenError(e.reason || 'invalid token');
        }
        throw e;
      }
    },
  };
}

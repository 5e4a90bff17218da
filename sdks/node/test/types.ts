// Compiled (not run) by test.sh: the glue fits the real Express, Hono and MCP SDK types.
import express from 'express';
import { Hono } from 'hono';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { AuthInfo as SdkAuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { Verifier, type AuthInfo, type Principal } from '../src/index.js';
import { gatehouseAuth as expressAuth, gatehouseMetadata as expressMetadata } from '../src/express.js';
import { gatehouseAuth as honoAuth, gatehouseMetadata as honoMetadata, type GatehouseEnv } from '../src/hono.js';
import { mcpTokenVerifier } from '../src/mcp.js';

const v = new Verifier({ issuer: 'https://auth.example.com', resource: 'https://api.example.com/mcp' });

const app = express();
app.all([...v.metadataPaths], expressMetadata(v));
app.get('/reports', expressAuth(v, ['reports:read']), (req, res) => {
  const p: Principal | undefined = (req as { gatehouse?: Principal }).gatehouse;
  res.json({ sub: p?.subject });
});
app.use('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(v), requiredScopes: ['mcp:tools'], resourceMetadataUrl: v.metadataUrl }));

const hono = new Hono<GatehouseEnv>();
hono.use('/.well-known/*', honoMetadata(v));
hono.use('/reports/*', honoAuth(v, ['reports:read']));
hono.get('/reports', (c) => c.json({ sub: c.get('gatehouse').subject }));

// The kit's AuthInfo is the SDK's.
export const sameAuthInfo = (a: AuthInfo): SdkAuthInfo => a;
export const route = v.protect(['reports:read'], (_req, p) => Response.json({ sub: p.subject }));

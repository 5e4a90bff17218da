// A tiny MCP server written with the official MCP TypeScript SDK, guarded by Gatehouse access
// tokens verified with jose against Gatehouse's JWKS: ES256 pinned, typ at+jwt, iss, aud exactly
// this server's resource URI, no clock leeway (so a token is refused the second it expires),
// scope mcp:tools. It serves RFC 9728 protected-resource metadata and RFC 6750 challenges, like
// the resource kits of the contract (§9), and one tool, whoami, answering the token's sub and scope.
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const SCOPE = 'mcp:tools';

/** Starts the server on a free loopback port; returns { url, resource, seen, close }. */
export async function startMCPServer(issuer) {
  const jwks = createRemoteJWKSet(new URL(issuer + '/.well-known/jwks.json'));
  const httpServer = http.createServer();
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${httpServer.address().port}`;
  const resource = origin + '/mcp';
  const metadataURL = origin + '/.well-known/oauth-protected-resource/mcp';
  /** Every answer to /mcp: { status, error, jti }. */
  const seen = [];

  const challenge = (fields) =>
    'Bearer ' + [...Object.entries(fields), ['scope', SCOPE], ['resource_metadata', metadataURL]]
      .map(([k, v]) => `${k}="${String(v).replace(/["\\]/g, '')}"`).join(', ');

  async function authenticate(req) {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return { status: 401, challenge: challenge({}) };
    let payload;
    try {
      ({ payload } = await jwtVerify(m[1], jwks, { issuer, algorithms: ['ES256'], typ: 'at+jwt', clockTolerance: 0 }));
      if (payload.aud !== resource) throw new Error(`the token's audience is ${JSON.stringify(payload.aud)}, not ${resource}`);
    } catch (e) {
      return { status: 401, error: 'invalid_token', challenge: challenge({ error: 'invalid_token', error_description: e.message }) };
    }
    const scopes = String(payload.scope ?? '').split(' ').filter(Boolean);
    if (!scopes.includes(SCOPE)) {
      return { status: 403, error: 'insufficient_scope', jti: payload.jti, challenge: challenge({ error: 'insufficient_scope' }) };
    }
    return { status: 200, jti: payload.jti, auth: { token: m[1], clientId: payload.client_id, scopes, expiresAt: payload.exp, extra: { sub: payload.sub } } };
  }

  httpServer.on('request', async (req, res) => {
    const path = new URL(req.url, origin).pathname;
    if (req.method === 'GET' && (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ resource, authorization_servers: [issuer], scopes_supported: [SCOPE], bearer_methods_supported: ['header'] }));
      return;
    }
    if (path !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const a = await authenticate(req);
    seen.push({ method: req.method, status: a.status, error: a.error, jti: a.jti });
    if (a.status !== 200) {
      res.writeHead(a.status, { 'WWW-Authenticate': a.challenge, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: a.error ?? 'unauthorized' }));
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no standalone event stream, no sessions to delete.
      res.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    req.auth = a.auth;
    const server = new McpServer({ name: 'gatehouse-interop-ts', version: '1.0.0' });
    server.registerTool('whoami', { description: "Returns the access token's sub and scope." }, async (extra) => {
      const info = { sub: extra.authInfo?.extra?.sub, scope: extra.authInfo?.scopes.join(' ') };
      return { content: [{ type: 'text', text: JSON.stringify(info) }], structuredContent: info };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });

  return {
    url: resource,
    resource,
    seen,
    close: () => new Promise((r) => { httpServer.closeAllConnections(); httpServer.close(r); }),
  };
}

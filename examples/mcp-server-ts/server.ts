// An MCP server (Streamable HTTP, the official MCP TypeScript SDK) that accepts Gatehouse access
// tokens through the TypeScript kit (@gatehouse/resource). One tool, whoami, needs scope
// mcp:tools and returns the token's sub and scope.
//
//   ./run --addr 127.0.0.1:8000 --issuer http://127.0.0.1:8080 [--resource http://127.0.0.1:8000/mcp]
//
// It serves MCP at /mcp and the RFC 9728 protected-resource metadata at
// /.well-known/oauth-protected-resource/mcp (and at the root well-known path), and prints
// "listening on http://HOST:PORT/mcp" once ready.
import http from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Verifier, hasScopes, scopeString, type Principal } from '@gatehouse/resource';
import { gatehouseAuth, gatehouseMetadata } from '@gatehouse/resource/express';

const SCOPE = 'mcp:tools';

const { values: flags } = parseArgs({
  options: {
    addr: { type: 'string', default: '127.0.0.1:8000' },
    issuer: { type: 'string', default: process.env.GATEHOUSE_ISSUER ?? '' },
    resource: { type: 'string', default: '' },
  },
});
if (!flags.issuer) {
  console.error('mcp-server-ts: --issuer is required');
  process.exit(2);
}
const m = /^(.*):(\d+)$/.exec(flags.addr);
if (!m) {
  console.error(`mcp-server-ts: --addr ${flags.addr}: want HOST:PORT`);
  process.exit(2);
}
const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');

// Listen first: with port 0 the resource URI depends on the port picked.
const httpServer = http.createServer();
await new Promise<void>((resolve, reject) => {
  httpServer.once('error', reject);
  httpServer.listen(Number(m[2]), host || undefined, resolve);
});
const { port } = httpServer.address() as { port: number };
const shownHost = !host ? 'localhost' : host.includes(':') ? `[${host}]` : host;
const base = `http://${shownHost}:${port}`;
const resource = flags.resource || `${base}/mcp`;

const v = new Verifier({
  issuer: flags.issuer,
  resource,
  scopesSupported: [SCOPE],
  resourceName: 'Gatehouse example MCP server (TypeScript)',
});

const app = express();
app.disable('x-powered-by');
// RFC 9728 metadata at /.well-known/oauth-protected-resource/mcp and the root well-known path.
app.all(v.metadataPaths as string[], gatehouseMetadata(v));
// The kit answers 401/403 with its challenges and sets req.auth, which the SDK's transport hands
// to tool handlers as extra.authInfo. Bodies are parsed only for authenticated requests.
app.all('/mcp', gatehouseAuth(v, [SCOPE]), express.json({ limit: '1mb' }), async (req, res) => {
  if (req.method !== 'POST') {
    // Stateless server: no standalone event stream, no session to delete.
    res.status(405).set('Allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
    return;
  }
  const server = newServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

function newServer(): McpServer {
  const server = new McpServer({ name: 'gatehouse-example-ts', version: '0.1.0' });
  server.registerTool(
    'whoami',
    { description: 'Returns the subject and scopes of the access token this call was made with.' },
    async (extra) => {
      const p = extra.authInfo?.extra?.principal as Principal | undefined;
      // /mcp already required mcp:tools; the tool checks again so that it stays safe if it is
      // ever mounted elsewhere.
      if (!p || !hasScopes(p, SCOPE)) {
        return { isError: true, content: [{ type: 'text', text: `whoami needs scope ${SCOPE}` }] };
      }
      const out = { sub: p.subject, scope: scopeString(p) };
      return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
    },
  );
  return server;
}

httpServer.on('request', app);
console.log(`listening on ${base}/mcp`);

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    httpServer.close(() => process.exit(0));
    httpServer.closeAllConnections();
  });
}

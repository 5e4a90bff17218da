// Interop: the official MCP TypeScript SDK's client (StreamableHTTPClientTransport with an
// OAuthClientProvider) against Gatehouse and an MCP server guarded by Gatehouse tokens:
// 401 + WWW-Authenticate, protected-resource metadata, Gatehouse's metadata, dynamic
// registration, the code flow with PKCE S256 and resource (the provider's
// redirectToAuthorization plays the user over HTTP), a tool call, then a real expiry: the
// server refuses the expired token and the SDK refreshes and calls again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { registerUser, startGatehouse } from './gatehouse.mjs';
import { startMCPServer } from './mcp-server.mjs';
import { OAuthUser } from './user-agent.mjs';
import { InteropProvider, recordingFetchInto } from './mcp-client.mjs';

let gatehouse;
let mcp;
const exchanges = []; // what the SDK sent to Gatehouse and the MCP server

const recordingFetch = recordingFetchInto(exchanges);

before(async () => {
  // Two-second access tokens: the test waits for one to expire for real (no sleep: it keeps
  // calling until the server refuses the token and the SDK refreshes).
  gatehouse = await startGatehouse({ GATEHOUSE_ACCESS_TOKEN_TTL: '2s' });
  mcp = await startMCPServer(gatehouse.url);
  const r = await gatehouse.admin('POST', '/api/v1/admin/oauth/resources', {
    uri: mcp.resource,
    name: 'Interop MCP server (TypeScript SDK)',
    scopes: ["mcp:tools=Call the interop server's tools"],
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});

after(async () => {
  await mcp?.close();
  await gatehouse?.stop();
});

test('MCP TypeScript SDK: discovery, registration, consent, tool call, refresh after expiry', async (t) => {
  const account = await registerUser(gatehouse.url, 'ts-sdk');
  const user = new OAuthUser(gatehouse.url, account);
  const provider = new InteropProvider(gatehouse.url, user);
  const deadline = AbortSignal.timeout(60_000);

  // First connection: 401 from the MCP server, the SDK discovers, registers and sends the user
  // to Gatehouse, then reports that it is not authorized yet.
  const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider, fetch: recordingFetch });
  await assert.rejects(new Client({ name: 'gatehouse-interop-ts', version: '1.0.0' }).connect(first), UnauthorizedError);
  try {
    assert.ok(provider.code, 'the user came back with a code');
    await first.finishAuth(provider.code);
  } catch (e) {
    throw new Error(`${e.message}\n${gatehouse.logs().slice(-4000)}`);
  }

  await t.test('the SDK followed the challenge to Gatehouse and registered', () => {
    assert.equal(mcp.seen[0].status, 401);
    assert.ok(exchanges.some((x) => x.url.includes('/.well-known/oauth-protected-resource') && x.status === 200), 'PRM read');
    assert.ok(exchanges.some((x) => x.url.startsWith(gatehouse.url + '/.well-known/') && x.status === 200), 'AS metadata read');
    const reg = exchanges.filter((x) => x.url === gatehouse.url + '/oauth2/register');
    assert.equal(reg.length, 1);
    assert.equal(reg[0].status, 201);
    assert.ok(provider.client?.client_id, 'client_id saved');
  });

  await t.test('authorization request: S256, resource, scope; consent named client and scope', () => {
    assert.equal(provider.authorizationURLs.length, 1);
    const q = provider.authorizationURLs[0].searchParams;
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.ok(q.get('code_challenge'));
    assert.equal(q.get('resource'), mcp.resource);
    assert.ok(q.get('scope').split(' ').includes('mcp:tools'), `scope ${q.get('scope')}`);
    assert.ok(
      user.pages.some((p) => p.includes('name="decision"') && p.includes('mcp:tools') && p.includes('TypeScript SDK interop client')),
      'a consent page named the client and mcp:tools',
    );
    const code = exchanges.filter((x) => x.grantType === 'authorization_code');
    assert.equal(code.length, 1);
    assert.equal(code[0].status, 200);
    assert.ok(provider.current.refresh_token, 'a public client got a refresh token');
  });

  // Second connection with the tokens: the tool call.
  const client = new Client({ name: 'gatehouse-interop-ts', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider, fetch: recordingFetch }));
  const whoami = async () => {
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    assert.ok(!r.isError, JSON.stringify(r.content));
    return r.structuredContent;
  };
  const me = await whoami();
  assert.equal(me.sub, account.id);
  assert.ok(me.scope.split(' ').includes('mcp:tools'), `scope ${me.scope}`);

  await t.test('the server refuses the expired token; the SDK refreshes and calls again', async () => {
    const refreshed = () => exchanges.filter((x) => x.grantType === 'refresh_token' && x.status === 200).length;
    const expiredRefusals = () => mcp.seen.filter((s) => s.status === 401 && s.error === 'invalid_token').length;
    // Keep calling until a call has met an expired token and was carried by a refresh.
    while (!(expiredRefusals() > 0 && refreshed() > 0)) {
      deadline.throwIfAborted();
      const again = await whoami();
      assert.equal(again.sub, account.id);
    }
    const after = await whoami();
    assert.equal(after.sub, account.id);
    const refreshes = exchanges.filter((x) => x.grantType === 'refresh_token');
    assert.ok(refreshes.every((x) => x.status === 200), `refresh statuses ${refreshes.map((x) => x.status)}`);
    const presented = refreshes.map((x) => new URLSearchParams(String(x.body)).get('refresh_token'));
    assert.equal(new Set(presented).size, presented.length, 'each refresh presented a new refresh token (rotation)');
    assert.equal(new URLSearchParams(String(refreshes[0].body)).get('resource'), mcp.resource, 'the SDK sends resource on refresh');
  });
  await client.close();
});

// Interop: the official MCP TypeScript SDK's client against one of the example MCP servers
// (examples/<name>, started through its run script) with a real Gatehouse: the 401 challenge, protected-resource metadata, Gatehouse's
// metadata, dynamic registration, the code flow with PKCE S256 and resource (the provider plays
// the user over HTTP), the whoami tool call, then a real expiry: the server refuses the expired
// token and the SDK refreshes and calls again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { registerUser, startGatehouse } from './gatehouse.mjs';
import { startExample } from './example-server.mjs';
import { OAuthUser } from './user-agent.mjs';
import { InteropProvider } from './mcp-client.mjs';


// exampleInterop defines the test of the TypeScript SDK's client against examples/<example>.
export function exampleInterop(EXAMPLE) {
  let gatehouse;
  let server;
  const exchanges = []; // every request the SDK made: method, url, grant type, status, WWW-Authenticate error

  async function recordingFetch(input, init) {
    const res = await fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    let grantType;
    if (init?.body instanceof URLSearchParams) grantType = init.body.get('grant_type');
    else if (typeof init?.body === 'string' && init.body.includes('grant_type=')) grantType = new URLSearchParams(init.body).get('grant_type');
    const challenge = res.headers.get('www-authenticate') ?? '';
    exchanges.push({
      method: init?.method ?? 'GET', url, grantType, status: res.status, body: init?.body, challenge,
      error: /error="([^"]*)"/.exec(challenge)?.[1],
    });
    return res;
  }

  before(async () => {
    // Two-second access tokens: the test meets a real expiry (the kit's leeway is 5 s), without
    // sleeping: it keeps calling until the server refuses the token and the SDK refreshes.
    gatehouse = await startGatehouse({ GATEHOUSE_ACCESS_TOKEN_TTL: '2s' });
    server = await startExample(EXAMPLE, gatehouse.url);
    const r = await gatehouse.admin('POST', '/api/v1/admin/oauth/resources', {
      uri: server.resource,
      name: `Example MCP server (${EXAMPLE})`,
      scopes: ["mcp:tools=Call the example server's tools"],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });

  after(async () => {
    try {
      await server?.close();
    } finally {
      await gatehouse?.stop();
    }
  });

  test(`MCP TypeScript SDK × ${EXAMPLE}: discovery, registration, consent, tool call, refresh after expiry`, async (t) => {
    const account = await registerUser(gatehouse.url, `ts-sdk-${EXAMPLE}`);
    const user = new OAuthUser(gatehouse.url, account);
    const provider = new InteropProvider(gatehouse.url, user);
    const deadline = AbortSignal.timeout(90_000);
    const toServer = () => exchanges.filter((x) => x.url.startsWith(server.url));

    const first = new StreamableHTTPClientTransport(new URL(server.url), { authProvider: provider, fetch: recordingFetch });
    await assert.rejects(new Client({ name: 'gatehouse-interop-ts', version: '1.0.0' }).connect(first), UnauthorizedError);
    try {
      assert.ok(provider.code, 'the user came back with a code');
      await first.finishAuth(provider.code);
    } catch (e) {
      throw new Error(`${e.message}\n${gatehouse.logs().slice(-4000)}\n${server.logs().slice(-4000)}`);
    }

    await t.test('the server challenged; the SDK followed it to Gatehouse and registered', () => {
      const challenged = toServer()[0];
      assert.equal(challenged.status, 401);
      const md = new URL(server.url).origin + '/.well-known/oauth-protected-resource/mcp';
      assert.equal(challenged.challenge, `Bearer resource_metadata="${md}", scope="mcp:tools"`);
      const prm = exchanges.find((x) => x.url.includes('/.well-known/oauth-protected-resource') && x.status === 200);
      assert.ok(prm, 'PRM read');
      assert.ok(exchanges.some((x) => x.url.startsWith(gatehouse.url + '/.well-known/') && x.status === 200), 'AS metadata read');
      const reg = exchanges.filter((x) => x.url === gatehouse.url + '/oauth2/register');
      assert.equal(reg.length, 1);
      assert.equal(reg[0].status, 201);
    });

    await t.test('authorization request: S256, resource, scope; consent named client and scope', () => {
      const q = provider.authorizationURLs[0].searchParams;
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.equal(q.get('resource'), server.resource);
      assert.ok(q.get('scope').split(' ').includes('mcp:tools'), `scope ${q.get('scope')}`);
      assert.ok(user.pages.some((p) => p.includes('name="decision"') && p.includes('mcp:tools')), 'a consent page named mcp:tools');
      const code = exchanges.filter((x) => x.grantType === 'authorization_code');
      assert.equal(code.length, 1);
      assert.equal(code[0].status, 200);
      assert.ok(provider.current.refresh_token, 'a public client got a refresh token');
    });

    const client = new Client({ name: 'gatehouse-interop-ts', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { authProvider: provider, fetch: recordingFetch }));
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
      const expiredRefusals = () => toServer().filter((x) => x.status === 401 && x.error === 'invalid_token').length;
      while (!(expiredRefusals() > 0 && refreshed() > 0)) {
        deadline.throwIfAborted();
        const again = await whoami();
        assert.equal(again.sub, account.id);
      }
      assert.equal((await whoami()).sub, account.id);
      const refreshes = exchanges.filter((x) => x.grantType === 'refresh_token');
      assert.ok(refreshes.every((x) => x.status === 200), `refresh statuses ${refreshes.map((x) => x.status)}`);
      assert.equal(new URLSearchParams(String(refreshes[0].body)).get('resource'), server.resource, 'the SDK sends resource on refresh');
    });
    await client.close();
  });
}

// examples/mcp-server-ts started through its run script against a real Gatehouse: the 401
// challenge an MCP client starts from, the metadata, 403 for a token without mcp:tools, and
// whoami through the official MCP TypeScript SDK's client with a real OAuth token. The whole
// OAuth flow by a client of another language (the MCP Go SDK) is in
// cmd/gatehouse/api_oauth2_mcp_go_test.go.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { registerUser, repoRoot, startGatehouse } from '../../interop/test/gatehouse.mjs';
import { codeFlowToken } from '../../interop/test/code-flow.mjs';

let gh;
let proc;
let mcpURL;
let logs = '';

before(async () => {
  gh = await startGatehouse();
  proc = spawn(path.join(repoRoot, 'examples/mcp-server-ts/run'), ['--addr', '127.0.0.1:0', '--issuer', gh.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => (logs += d));
  mcpURL = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`run exited with ${code}:\n${logs}`)));
  });
  const r = await gh.admin('POST', '/api/v1/admin/oauth/resources', { uri: mcpURL, name: 'Example MCP server (TypeScript)',
    scopes: ['mcp:tools=Call the tools', 'reports:read=Read reports'] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});

after(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  await gh?.stop();
});

test('examples/mcp-server-ts: challenge, metadata, scope, whoami', async () => {
  const origin = new URL(mcpURL).origin;
  assert.match(mcpURL, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const meta = `${origin}/.well-known/oauth-protected-resource/mcp`;
  let res = await fetch(mcpURL, { method: 'POST' });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${meta}", scope="mcp:tools"`);
  for (const p of [meta, origin + '/.well-known/oauth-protected-resource']) {
    res = await fetch(p);
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.resource, mcpURL);
    assert.deepEqual(doc.authorization_servers, [gh.url]);
    assert.deepEqual(doc.scopes_supported, ['mcp:tools']);
  }

  const account = await registerUser(gh.url, 'example-ts');
  const narrow = await codeFlowToken(gh.url, account, { resource: mcpURL, scope: 'reports:read' });
  res = await fetch(mcpURL, { method: 'POST', headers: { Authorization: `Bearer ${narrow.access_token}` } });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${meta}", scope="mcp:tools", error="insufficient_scope"`);

  const tok = await codeFlowToken(gh.url, account, { resource: mcpURL, scope: 'mcp:tools' });
  const client = new Client({ name: 'example-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpURL), { requestInit: { headers: { Authorization: `Bearer ${tok.access_token}` } } }));
  const r = await client.callTool({ name: 'whoami', arguments: {} });
  assert.ok(!r.isError, JSON.stringify(r.content));
  assert.deepEqual(r.structuredContent, { sub: account.id, scope: 'mcp:tools' });
  await client.close();
});

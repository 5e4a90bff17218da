// Interop: the official MCP TypeScript SDK identifies itself with a Client ID Metadata Document
// (an https URL as client_id, SEP-991 / MCP 2025-11-25) instead of registering: Gatehouse fetches
// the document (loopback allowed by GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS, the test's CA
// trusted through SSL_CERT_FILE), shows it on the consent page, and issues tokens to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { discoverAuthorizationServerMetadata, refreshAuthorization, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { registerUser, startGatehouse } from './gatehouse.mjs';
import { startMCPServer } from './mcp-server.mjs';
import { OAuthUser } from './user-agent.mjs';
import { InteropProvider, REDIRECT, recordingFetchInto } from './mcp-client.mjs';

let dir;
let docServer;
let clientIdURL;
let documentFetches = 0;
let gatehouse;
let mcp;

before(async () => {
  // A self-signed certificate for 127.0.0.1, trusted by Gatehouse alone (SSL_CERT_FILE).
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-interop-cimd-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'pipe' });
  docServer = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
    if (req.url !== '/oauth/client-metadata.json') {
      res.writeHead(404).end();
      return;
    }
    documentFetches++;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    res.end(JSON.stringify({
      client_id: clientIdURL,
      client_name: 'TypeScript SDK interop client (metadata document)',
      client_uri: new URL(clientIdURL).origin,
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }));
  });
  await new Promise((r) => docServer.listen(0, '127.0.0.1', r));
  clientIdURL = `https://127.0.0.1:${docServer.address().port}/oauth/client-metadata.json`;

  gatehouse = await startGatehouse({
    GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS: 'true',
    SSL_CERT_FILE: path.join(dir, 'cert.pem'),
  });
  mcp = await startMCPServer(gatehouse.url);
  const r = await gatehouse.admin('POST', '/api/v1/admin/oauth/resources', {
    uri: mcp.resource,
    name: 'Interop MCP server (TypeScript SDK, CIMD)',
    scopes: ["mcp:tools=Call the interop server's tools"],
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});

after(async () => {
  await mcp?.close();
  await gatehouse?.stop();
  await new Promise((r) => (docServer ? docServer.close(r) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('MCP TypeScript SDK with a Client ID Metadata Document: no registration, consent, tool call, refresh', async () => {
  const account = await registerUser(gatehouse.url, 'ts-sdk-cimd');
  const user = new OAuthUser(gatehouse.url, account);
  const provider = new InteropProvider(gatehouse.url, user, clientIdURL);
  const exchanges = [];
  const recordingFetch = recordingFetchInto(exchanges);

  const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider, fetch: recordingFetch });
  await assert.rejects(new Client({ name: 'gatehouse-interop-ts', version: '1.0.0' }).connect(first), UnauthorizedError);
  assert.ok(provider.code, 'the user came back with a code');
  try {
    await first.finishAuth(provider.code);
  } catch (e) {
    throw new Error(`${e.message}\n${gatehouse.logs().slice(-4000)}`);
  }

  assert.equal(provider.client.client_id, clientIdURL, 'the metadata URL is the client_id');
  assert.equal(exchanges.filter((x) => x.url.endsWith('/register')).length, 0, 'no dynamic registration');
  assert.equal(provider.authorizationURLs[0].searchParams.get('client_id'), clientIdURL);
  assert.ok(documentFetches >= 1, 'Gatehouse fetched the document');
  assert.ok(
    user.pages.some((p) => p.includes('name="decision"') && p.includes('TypeScript SDK interop client (metadata document)') && p.includes('127.0.0.1')),
    "the consent page named the document's client and its host",
  );

  const client = new Client({ name: 'gatehouse-interop-ts', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider, fetch: recordingFetch }));
  const r = await client.callTool({ name: 'whoami', arguments: {} });
  assert.ok(!r.isError, JSON.stringify(r.content));
  assert.equal(r.structuredContent.sub, account.id);

  // A refresh through the SDK's own refreshAuthorization (the expiry path is the other test's).
  const metadata = await discoverAuthorizationServerMetadata(gatehouse.url);
  const next = await refreshAuthorization(gatehouse.url, {
    metadata,
    clientInformation: provider.client,
    refreshToken: provider.current.refresh_token,
    resource: new URL(mcp.resource),
  });
  assert.ok(next.access_token);
  assert.ok(next.refresh_token && next.refresh_token !== provider.current.refresh_token, 'a rotated refresh token');
  await client.close();
});

// The kit against a real Gatehouse binary (built by test.sh, or here with go build): real JWKS,
// real OAuth tokens from the code flow (sdks/interop's helpers play the user on /login and the
// consent page), Gatehouse's first-party tokens, its introspection endpoint, its key rotation.
// The challenge matrix runs through each glue: the fetch-style guard, Express and Hono.
// What Gatehouse never issues (several audiences, other algorithms, typ variants) is in
// verify.test.mjs, against a stand-in issuer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { Hono } from 'hono';
import { decodeProtectedHeader } from 'jose';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { Verifier } from '../dist/index.js';
import { gatehouseAuth as expressAuth, gatehouseMetadata as expressMetadata } from '../dist/express.js';
import { gatehouseAuth as honoAuth, gatehouseMetadata as honoMetadata } from '../dist/hono.js';
import { mcpTokenVerifier } from '../dist/mcp.js';
import { lastLine, registerUser, startGatehouse } from '../../interop/test/gatehouse.mjs';
import { codeFlowToken } from '../../interop/test/code-flow.mjs';
import { Clock, recordingLogger } from './issuer.mjs';

let gh;
let account;
const servers = [];
let origin; // where the Express apps listen: the resource URIs are made from it
let R; // this server's resource
let R2; // another registered resource
let tokens; // { right, noScope, otherResource, firstParty }
let introKey; // an API key with tokens:introspect (the resource server's own)
let userKey; // the user's API key with profile:read

/** Listens on a free loopback port; returns its origin. */
async function listen(handler) {
  const s = http.createServer(handler);
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return `http://127.0.0.1:${s.address().port}`;
}

before(async () => {
  gh = await startGatehouse();
  // The resource URIs point at a port that this process holds, so that they are real.
  origin = await listen((_req, res) => res.writeHead(404).end());
  R = origin + '/mcp';
  R2 = origin + '/other';
  for (const [uri, scopes] of [[R, ['mcp:tools=Call the tools', 'reports:read=Read reports']], [R2, ['mcp:tools=Call the tools']]]) {
    const r = await gh.admin('POST', '/api/v1/admin/oauth/resources', { uri, name: `kit test ${uri}`, scopes });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  account = await registerUser(gh.url, 'tskit');
  const login = await fetch(gh.url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: account.email, password: account.password }),
  });
  assert.equal(login.status, 200);
  tokens = {
    right: await codeFlowToken(gh.url, account, { resource: R, scope: 'mcp:tools reports:read' }),
    noScope: await codeFlowToken(gh.url, account, { resource: R, scope: 'reports:read' }),
    otherResource: await codeFlowToken(gh.url, account, { resource: R2, scope: 'mcp:tools' }),
    firstParty: (await login.json()).access_token,
  };
  introKey = lastLine(await gh.cli(['keys', 'create', '--email', account.email, '--scope', 'tokens:introspect', '--name', 'kit-introspect']));
  userKey = lastLine(await gh.cli(['keys', 'create', '--email', account.email, '--scope', 'profile:read', '--name', 'kit-user']));
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await gh?.stop();
});

/** The three glues over one verifier, each answering { status, challenge, body } for a request to R. */
async function glues(v, scopes = ['mcp:tools']) {
  const app = express();
  app.all(v.metadataPaths, expressMetadata(v));
  app.all('/mcp', expressAuth(v, scopes), (req, res) => res.json({ sub: req.gatehouse.subject, scopes: req.gatehouse.scopes, auth: req.auth }));
  const base = await listen(app);
  const hono = new Hono();
  hono.use('/.well-known/*', honoMetadata(v));
  hono.use('/mcp', honoAuth(v, scopes));
  hono.all('/mcp', (c) => c.json({ sub: c.get('gatehouse').subject, scopes: c.get('gatehouse').scopes }));
  const answer = async (res) => ({ status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() });
  return {
    fetch: async (headers) => {
      const p = await v.authorize(new Request(R, { headers }), scopes);
      return p instanceof Response ? answer(p) : { status: 200, challenge: null, body: { sub: p.subject, scopes: p.scopes } };
    },
    express: async (headers) => answer(await fetch(base + '/mcp', { headers })),
    hono: async (headers) => answer(await hono.request(R, { headers })),
  };
}

const bearer = (t) => ({ Authorization: `Bearer ${t}` });

test('challenge matrix against Gatehouse, through the fetch guard, Express and Hono', async () => {
  const v = new Verifier({ issuer: gh.url, resource: R, logger: recordingLogger() });
  // Expired: the same real token, seen by a verifier whose clock is 16 minutes ahead (tokens live 15).
  const late = new Verifier({ issuer: gh.url, resource: R, now: () => Date.now() + 16 * 60_000 });
  // Wrong issuer: Gatehouse's keys, but another issuer configured (localhost is not 127.0.0.1).
  const otherIss = new Verifier({ issuer: gh.url.replace('127.0.0.1', 'localhost'), resource: R, jwksUrl: gh.url + '/.well-known/jwks.json' });
  const g = { v: await glues(v), late: await glues(late), otherIss: await glues(otherIss) };
  const meta = `${origin}/.well-known/oauth-protected-resource/mcp`;
  const ch = (error) => `Bearer resource_metadata="${meta}", scope="mcp:tools"${error ? `, error="${error}"` : ''}`;
  const cases = [
    ['no token', 'v', {}, 401, ch(), 'unauthorized', 'an access token is required'],
    ['token in the query string only', 'v', {}, 401, ch(), 'unauthorized', 'an access token is required', `?access_token=${tokens.right.access_token}`],
    ['garbage', 'v', bearer('garbage'), 401, ch('invalid_token'), 'invalid_token', 'not a JWT'],
    ['expired', 'late', bearer(tokens.right.access_token), 401, ch('invalid_token'), 'invalid_token', 'token expired'],
    ['wrong iss', 'otherIss', bearer(tokens.right.access_token), 401, ch('invalid_token'), 'invalid_token', 'token issued by another issuer'],
    ['wrong aud (a token for another registered resource)', 'v', bearer(tokens.otherResource.access_token), 401, ch('invalid_token'), 'invalid_token', 'token is for another resource'],
    ["Gatehouse's first-party token (/api/v1/auth/login)", 'v', bearer(tokens.firstParty), 401, ch('invalid_token'), 'invalid_token', 'token is for another resource'],
    ['missing scope', 'v', bearer(tokens.noScope.access_token), 403, ch('insufficient_scope'), 'insufficient_scope', 'the token lacks a scope this operation needs'],
    ['right token', 'v', bearer(tokens.right.access_token), 200, null],
  ];
  for (const [name, which, headers, status, challenge, error, description, query] of cases) {
    for (const [glue, call] of Object.entries(g[which])) {
      const label = `${name} via ${glue}`;
      let got;
      if (query && glue !== 'fetch') continue;
      if (query) {
        const p = await (which === 'v' ? v : late).authorize(new Request(R + query, { headers }), ['mcp:tools']);
        got = { status: p.status, challenge: p.headers.get('www-authenticate'), body: await p.json() };
      } else got = await call(headers);
      assert.equal(got.status, status, `${label}: ${JSON.stringify(got.body)}`);
      assert.equal(got.challenge, challenge, label);
      if (status === 200) {
        assert.equal(got.body.sub, account.id, label);
        assert.deepEqual([...got.body.scopes].sort(), ['mcp:tools', 'reports:read'], label);
      } else {
        assert.deepEqual(got.body, { error, error_description: description }, label);
      }
    }
  }
  const p = await v.verify(tokens.right.access_token);
  assert.equal(p.clientId, tokens.right.client_id);
  assert.ok(p.sessionId, 'sid');
  assert.equal(p.tokenType, 'access_token');
  // Express sets the MCP SDK's AuthInfo too.
  const viaExpress = await (await glues(v)).express(bearer(tokens.right.access_token));
  assert.equal(viaExpress.body.auth.clientId, tokens.right.client_id);
  assert.equal(viaExpress.body.auth.resource, R);
  assert.equal(viaExpress.body.auth.extra.sub, account.id);
});

test('protected-resource metadata through Express and Hono', async () => {
  const v = new Verifier({ issuer: gh.url, resource: R, scopesSupported: ['mcp:tools'], resourceName: 'kit test' });
  const app = express();
  app.all(v.metadataPaths, expressMetadata(v));
  const base = await listen(app);
  const hono = new Hono();
  hono.use('*', honoMetadata(v));
  const want = { resource: R, authorization_servers: [gh.url], scopes_supported: ['mcp:tools'], bearer_methods_supported: ['header'], resource_name: 'kit test' };
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    for (const res of [await fetch(base + path), await hono.request(origin + path)]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(await res.json(), want);
    }
  }
  // The document's authorization server is Gatehouse, whose metadata names the same issuer.
  const as = await (await fetch(gh.url + '/.well-known/oauth-authorization-server')).json();
  assert.equal(as.issuer, want.authorization_servers[0]);
});

test('key rotation (gatehouse signing-keys rotate) is picked up without restarting the resource server', async () => {
  const clock = new Clock();
  let jwksFetches = 0;
  const counting = (input, init) => {
    if (String(input).endsWith('/.well-known/jwks.json')) jwksFetches++;
    return fetch(input, init);
  };
  const v = new Verifier({ issuer: gh.url, resource: R, now: clock.now, fetch: counting });
  const before = await codeFlowToken(gh.url, account, { resource: R, scope: 'mcp:tools' });
  await v.verify(before.access_token);
  assert.equal(jwksFetches, 1);

  const out = await gh.cli(['signing-keys', 'rotate']);
  const kid = /new signing key (\S+)/.exec(out)?.[1];
  assert.ok(kid, out);
  // A restart of Gatehouse makes it sign with the new key now rather than within its reload
  // interval; the resource server's verifier keeps running.
  await gh.restart();
  const afterRotation = await codeFlowToken(gh.url, account, { resource: R, scope: 'mcp:tools' });
  assert.equal(decodeProtectedHeader(afterRotation.access_token).kid, kid, 'Gatehouse signs with the new key');
  assert.notEqual(decodeProtectedHeader(before.access_token).kid, kid);

  // Within 10 s of the last fetch the unknown kid is refused without asking Gatehouse again…
  clock.advance(9);
  await assert.rejects(v.verify(afterRotation.access_token), { kind: 'invalid_token', reason: 'unknown signing key' });
  assert.equal(jwksFetches, 1);
  // …then fetched once, and accepted; the old key still verifies its tokens.
  clock.advance(1);
  assert.equal((await v.verify(afterRotation.access_token)).subject, account.id);
  assert.equal(jwksFetches, 2);
  assert.equal((await v.verify(before.access_token)).subject, account.id);
  await v.verify(afterRotation.access_token);
  assert.equal(jwksFetches, 2);
});

test('revoked session: refused at once with checkSessions, accepted until exp without', async () => {
  const tok = await codeFlowToken(gh.url, account, { resource: R, scope: 'mcp:tools' });
  const checked = new Verifier({ issuer: gh.url, resource: R, checkSessions: true, introspectionKey: introKey, sessionCacheTtl: -1 });
  const plain = new Verifier({ issuer: gh.url, resource: R });
  assert.equal((await checked.verify(tok.access_token)).subject, account.id);
  assert.equal((await plain.verify(tok.access_token)).subject, account.id);
  // The app's session ends: its refresh token revoked (RFC 7009).
  const res = await fetch(gh.url + '/oauth2/revoke', {
    method: 'POST',
    body: new URLSearchParams({ token: tok.refresh_token, token_type_hint: 'refresh_token', client_id: tok.client_id }),
  });
  assert.equal(res.status, 200);
  await assert.rejects(checked.verify(tok.access_token), { kind: 'invalid_token', reason: 'token or session revoked' });
  const r = await checked.authorize(new Request(R, { headers: bearer(tok.access_token) }), ['mcp:tools']);
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/);
  assert.equal((await plain.verify(tok.access_token)).subject, account.id, 'without the check the token stands until it expires');
  // A server key without tokens:introspect is refused by Gatehouse: 503, never a silent accept.
  const wrongKey = new Verifier({ issuer: gh.url, resource: R, checkSessions: true, introspectionKey: userKey, logger: recordingLogger() });
  const down = await wrongKey.authorize(new Request(R, { headers: bearer(tokens.right.access_token) }), ['mcp:tools']);
  assert.equal(down.status, 503);
});

test('API keys through introspection: off by default, on with acceptApiKeys', async () => {
  const off = new Verifier({ issuer: gh.url, resource: R });
  const on = new Verifier({ issuer: gh.url, resource: R, acceptApiKeys: true, introspectionKey: introKey });
  const gOff = await glues(off, ['profile:read']);
  const gOn = await glues(on, ['profile:read']);
  const gOnTools = await glues(on, ['mcp:tools']);
  for (const glue of ['fetch', 'express', 'hono']) {
    let a = await gOff[glue]({ 'X-API-Key': userKey });
    assert.equal(a.status, 401, glue);
    assert.ok(!a.challenge.includes('error='), `${glue}: X-API-Key is not a credential when keys are off`);
    a = await gOff[glue](bearer(userKey));
    assert.equal(a.status, 401);
    assert.match(a.challenge, /error="invalid_token"/);
    for (const headers of [{ 'X-API-Key': userKey }, bearer(userKey)]) {
      a = await gOn[glue](headers);
      assert.equal(a.status, 200, `${glue} ${JSON.stringify(a.body)}`);
      assert.equal(a.body.sub, account.id);
      assert.deepEqual(a.body.scopes, ['profile:read']);
      a = await gOnTools[glue](headers);
      assert.equal(a.status, 403, `${glue}: a key carries Gatehouse's scopes, not mcp:tools`);
    }
    a = await gOn[glue]({ 'X-API-Key': userKey.slice(0, -1) + (userKey.endsWith('x') ? 'y' : 'x') });
    assert.equal(a.status, 401);
    a = await gOn[glue]({ 'X-API-Key': userKey, ...bearer(tokens.right.access_token) });
    assert.equal(a.status, 400, `${glue}: two credentials`);
  }
  const p = await on.verifyApiKey(userKey);
  assert.equal(p.tokenType, 'api_key');
  assert.ok(p.keyId);
  assert.equal(p.email, account.email);
});

test("the MCP TypeScript SDK's requireBearerAuth with mcpTokenVerifier", async () => {
  const v = new Verifier({ issuer: gh.url, resource: R });
  const app = express();
  app.all('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(v), requiredScopes: ['mcp:tools'], resourceMetadataUrl: v.metadataUrl, expectedResource: new URL(R) }),
    (req, res) => res.json(req.auth));
  const base = await listen(app);
  const call = async (headers) => {
    const res = await fetch(base + '/mcp', { headers });
    return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() };
  };
  let a = await call(bearer(tokens.right.access_token));
  assert.equal(a.status, 200);
  assert.equal(a.body.extra.sub, account.id);
  assert.equal(a.body.clientId, tokens.right.client_id);
  assert.ok(a.body.scopes.includes('mcp:tools'));
  assert.equal(typeof a.body.expiresAt, 'number');
  for (const [t, status, error] of [[tokens.otherResource.access_token, 401, 'invalid_token'], [tokens.firstParty, 401, 'invalid_token'],
    ['garbage', 401, 'invalid_token'], [tokens.noScope.access_token, 403, 'insufficient_scope']]) {
    a = await call(bearer(t));
    assert.equal(a.status, status);
    assert.match(a.challenge, new RegExp(`error="${error}"`));
    assert.ok(a.challenge.includes(`resource_metadata="${v.metadataUrl}"`));
  }
});

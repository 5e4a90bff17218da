// The kit against a stand-in issuer (test/issuer.mjs) with an injected clock: every check of
// the verification, the caches, the JWKS refetch throttle, API keys, session checks, the
// challenges and the metadata. The same against the real Gatehouse binary: gatehouse.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import { GatehouseAuthError, Verifier, hasScopes, requireScopes, scopeString } from '../dist/index.js';
import { Clock, ISSUER, RESOURCE, StandIn, recordingLogger } from './issuer.mjs';

async function setup(options = {}) {
  const clock = new Clock();
  const iss = new StandIn(clock);
  await iss.addKey();
  const logger = recordingLogger();
  const v = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now, logger, ...options });
  return { clock, iss, v, logger };
}

const reasonOf = (p) => p.then(() => 'accepted', (e) => (e instanceof GatehouseAuthError ? `${e.kind}: ${e.reason}` : `other: ${e}`));
const bearer = (tok, extra = {}) => new Request(RESOURCE, { headers: { Authorization: `Bearer ${tok}`, ...extra } });

test('a good token gives its principal', async () => {
  const { v, iss } = await setup();
  const tok = await iss.mint({ scope: 'mcp:tools profile:read', email: 'a@example.com' });
  const p = await v.verify(tok);
  assert.equal(p.subject, 'user-1');
  assert.equal(p.clientId, 'client-1');
  assert.deepEqual(p.scopes, ['mcp:tools', 'profile:read']);
  assert.equal(p.sessionId, 'sess-1');
  assert.equal(p.email, 'a@example.com');
  assert.equal(p.keyId, undefined);
  assert.equal(p.tokenType, 'access_token');
  assert.equal(p.claims.iss, ISSUER);
  assert.equal(typeof p.expiresAt, 'number');
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.scopes), 'a shared principal is frozen');
  assert.ok(hasScopes(p, 'mcp:tools') && !hasScopes(p, 'mcp:tools', 'admin'));
  assert.equal(scopeString(p), 'mcp:tools profile:read');
  assert.throws(() => requireScopes(p, 'mcp:tools', 'admin'), (e) => e.kind === 'insufficient_scope' && e.scopes.join(' ') === 'mcp:tools admin');
});

test('claims: issuer, audience, expiry, not-before, issued-at, subject', async () => {
  const { v, iss, clock } = await setup();
  const now = Math.floor(clock.now() / 1000);
  const cases = [
    [{ iss: 'https://auth.example.test/' }, 'invalid_token: token issued by another issuer'],
    [{ iss: 'https://evil.example.test' }, 'invalid_token: token issued by another issuer'],
    [{ aud: 'https://api.example.test/other' }, 'invalid_token: token is for another resource'],
    [{ aud: RESOURCE + '/' }, 'invalid_token: token is for another resource'],
    [{ aud: 'https://api.example.test' }, 'invalid_token: token is for another resource'],
    [{ aud: RESOURCE.toUpperCase() }, 'invalid_token: token is for another resource'],
    [{ aud: ISSUER }, 'invalid_token: token is for another resource'],
    [{ aud: [RESOURCE, 'https://other.example.test'] }, 'invalid_token: token is for several audiences'],
    [{ aud: [] }, 'invalid_token: token has no "aud"'],
    [{ aud: undefined }, 'invalid_token: token has no "aud"'],
    [{ aud: 7 }, 'invalid_token: malformed "aud"'],
    [{ aud: [RESOURCE] }, 'accepted'],
    [{ exp: now - 6 }, 'invalid_token: token expired'],
    [{ exp: now - 4 }, 'accepted'], // within the 5 s leeway
    [{ exp: undefined }, 'invalid_token: token has no valid "exp"'],
    [{ exp: String(now + 60) }, 'invalid_token: token has no valid "exp"'],
    [{ nbf: now + 60 }, 'invalid_token: token not valid yet'],
    [{ nbf: now + 4 }, 'accepted'],
    [{ iat: now + 60 }, 'invalid_token: token issued in the future'],
    [{ iat: undefined }, 'invalid_token: token has no valid "iat"'],
    [{ sub: undefined }, 'invalid_token: token has no "sub"'],
    [{ sub: 42 }, 'invalid_token: malformed claims'],
    [{ scope: ['mcp:tools'] }, 'invalid_token: malformed claims'],
  ];
  for (const [claims, want] of cases) {
    assert.equal(await reasonOf(v.verify(await iss.mint(claims))), want, JSON.stringify(claims));
  }
  const multi = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now, allowMultipleAudiences: true });
  assert.equal(await reasonOf(multi.verify(await iss.mint({ aud: [RESOURCE, 'https://other.example.test'] }))), 'accepted');
  assert.equal(await reasonOf(multi.verify(await iss.mint({ aud: ['https://a.test', 'https://other.example.test'] }))), 'invalid_token: token is for another resource');
  const strict = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now, leeway: 0 });
  assert.equal(await reasonOf(strict.verify(await iss.mint({ exp: now }))), 'invalid_token: token expired');
});

test('header: typ at+jwt only, the algorithm is the key\'s', async () => {
  const { v, iss, clock } = await setup();
  const typs = [['at+jwt', 'accepted'], ['AT+JWT', 'accepted'], ['application/at+jwt', 'accepted'], ['Application/AT+JWT', 'accepted'],
    ['JWT', 'invalid_token: token type is not "at+jwt"'], [undefined, 'invalid_token: token type is not "at+jwt"']];
  for (const [typ, want] of typs) assert.equal(await reasonOf(v.verify(await iss.mint({}, { header: { typ } }))), want, `typ ${typ}`);
  assert.equal(await reasonOf(v.verify(await iss.mint({}, { header: { kid: undefined } }))), 'invalid_token: token header has no "kid"');

  // HMAC with any secret under the EC key's kid: never verified.
  const hs = await new SignJWT({ iss: ISSUER, sub: 'u', aud: RESOURCE, iat: 1, exp: 2e9 })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' }).sign(new TextEncoder().encode('x'.repeat(32)));
  assert.equal(await reasonOf(v.verify(hs)), 'invalid_token: token algorithm does not match its key');
  // alg none.
  const [h, b] = (await iss.mint()).split('.');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: 'k1' })).toString('base64url') + '.' + b + '.';
  assert.equal(await reasonOf(v.verify(none)), 'invalid_token: token algorithm does not match its key');
  // An RSA key published for RS256 does not verify PS256 made with the same key.
  const rsKid = await iss.addKey('RS256');
  const rsa = iss.keys.find((k) => k.kid === rsKid);
  clock.advance(10); // the new kid may be fetched
  const psKey = await importJWK({ ...(await exportJWK(rsa.privateKey)), alg: 'PS256' }, 'PS256');
  const ps = await iss.mint({}, { kid: rsKid, header: { alg: 'PS256' }, key: psKey });
  assert.equal(await reasonOf(v.verify(ps)), 'invalid_token: token algorithm does not match its key');
  assert.equal(await reasonOf(v.verify(await iss.mint({}, { kid: rsKid }))), 'accepted');
  // A key whose published alg does not fit it is not used at all.
  const bad = await iss.addKey('ES256', { jwkAlg: 'RS256' });
  clock.advance(10);
  assert.equal(await reasonOf(v.verify(await iss.mint({}, { kid: bad }))), 'invalid_token: unknown signing key');
  // Signature tampering, garbage.
  const good = await iss.mint({}, { kid: 'k1' });
  const flipped = good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.at(-1);
  assert.equal(await reasonOf(v.verify(flipped)), 'invalid_token: bad signature');
  assert.equal(await reasonOf(v.verify(`${h}.${b}`)), 'invalid_token: not a JWT');
  assert.equal(await reasonOf(v.verify('garbage')), 'invalid_token: not a JWT');
  assert.equal(await reasonOf(v.verify('a.b.c')), 'invalid_token: malformed token');
  assert.equal(await reasonOf(v.verify('ak_live_123')), 'invalid_token: an API key is not an access token');
  assert.equal(await reasonOf(v.verify('x'.repeat(9000))), 'invalid_token: token too long');
});

test('verified-token cache: keyed on the whole token, never past exp', async () => {
  const { v, iss, clock } = await setup();
  const now = Math.floor(clock.now() / 1000);
  const tok = await iss.mint({ exp: now + 30 });
  const p1 = await v.verify(tok);
  const p2 = await v.verify(tok);
  assert.equal(p1, p2, 'the second verification is the cached principal');
  assert.equal(iss.fetches.jwks, 1);
  clock.advance(29);
  assert.equal(await reasonOf(v.verify(tok)), 'accepted');
  clock.advance(1); // at exp: the cache entry is dead, the leeway still admits it when verified afresh
  assert.notEqual(await v.verify(tok), p1, 'verified afresh at exp');
  clock.advance(5);
  assert.equal(await reasonOf(v.verify(tok)), 'invalid_token: token expired');
  // A token differing in its signature only is not the cached one.
  const t2 = await iss.mint();
  await v.verify(t2);
  const sig = t2.split('.')[2];
  const other = t2.slice(0, -sig.length) + (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  assert.equal(await reasonOf(v.verify(other)), 'invalid_token: bad signature');
  // A bounded cache keeps working past its bound.
  const small = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now, tokenCacheSize: 3 });
  const toks = await Promise.all([1, 2, 3, 4, 5].map((i) => iss.mint({ sub: `u${i}` })));
  for (const t of toks) assert.equal(await reasonOf(small.verify(t)), 'accepted');
  for (const t of toks) assert.equal((await small.verify(t)).subject.startsWith('u'), true);
  const off = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now, tokenCacheSize: -1 });
  assert.notEqual(await off.verify(toks[0]), await off.verify(toks[0]), 'no cache: verified each time');
});

test('JWKS: an unknown kid refetches at most once per 10 s; rotation needs no restart', async () => {
  const { v, iss, clock } = await setup();
  await v.verify(await iss.mint());
  assert.equal(iss.fetches.jwks, 1);
  // A forged kid: one refetch (10 s after the first fetch), then none for 10 s whatever the traffic.
  clock.advance(10);
  const forged = await iss.mint({}, { header: { kid: 'nope' } });
  assert.equal(await reasonOf(v.verify(forged)), 'invalid_token: unknown signing key');
  assert.equal(iss.fetches.jwks, 2);
  for (let i = 0; i < 20; i++) assert.equal(await reasonOf(v.verify(forged)), 'invalid_token: unknown signing key');
  assert.equal(iss.fetches.jwks, 2);

  // Rotation: the new key is published; its tokens verify once the throttle allows a fetch.
  const k2 = await iss.addKey();
  const fresh = await iss.mint({}, { kid: k2 });
  clock.advance(9);
  assert.equal(await reasonOf(v.verify(fresh)), 'invalid_token: unknown signing key');
  assert.equal(iss.fetches.jwks, 2);
  clock.advance(1);
  assert.equal(await reasonOf(v.verify(fresh)), 'accepted');
  assert.equal(iss.fetches.jwks, 3);
  assert.equal(await reasonOf(v.verify(await iss.mint({}, { kid: 'k1' }))), 'accepted', 'the old key still verifies');

  // Concurrent first verifications share one fetch.
  const { v: v2, iss: iss2 } = await setup();
  const t = await iss2.mint();
  await Promise.all([v2.verify(t), v2.verify(t), v2.verify(await iss2.mint({ sub: 'x' }))]);
  assert.equal(iss2.fetches.jwks, 1);
});

test('JWKS: a withdrawn key stops verifying, cached tokens included, once the set is refetched', async () => {
  const { v, iss, clock } = await setup({ jwksMaxAge: 60 });
  const old = await v.verify(await iss.mint()).then(() => iss.mint());
  await v.verify(old);
  const k2 = await iss.addKey();
  iss.withdraw('k1');
  clock.advance(11);
  await v.verify(await iss.mint({}, { kid: k2 })); // unknown kid: refetch, k1 gone
  assert.equal(await reasonOf(v.verify(old)), 'invalid_token: unknown signing key', 'a cached token of a withdrawn key is refused');
  // Stale set (older than jwksMaxAge): refetched on use.
  const before = iss.fetches.jwks;
  clock.advance(61);
  assert.equal(await reasonOf(v.verify(await iss.mint({}, { kid: k2 }))), 'accepted');
  assert.equal(iss.fetches.jwks, before + 1);
});

test('Gatehouse unreachable: 503 with Retry-After, logged, never accepted', async () => {
  const { v, iss, logger, clock } = await setup();
  const tok = await iss.mint();
  iss.down = true;
  const r = await v.authorize(bearer(tok), ['mcp:tools']);
  assert.ok(r instanceof Response);
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('retry-after'), '5');
  assert.equal(r.headers.get('www-authenticate'), null);
  assert.ok(logger.lines.some((l) => l.msg.includes('JWKS')));
  assert.ok(!JSON.stringify(logger.lines).includes(tok), 'the token is never logged');
  iss.down = false;
  clock.advance(1);
  assert.equal(await reasonOf(v.verify(tok)), 'accepted', 'retried once Gatehouse is back');
});

test('requests: header only, challenges, scopes', async () => {
  const { v, iss } = await setup({ scopesSupported: ['extra:scope'] });
  const tok = await iss.mint({ scope: 'mcp:tools' });
  const meta = 'https://api.example.test/.well-known/oauth-protected-resource/mcp';
  const check = async (req, scopes, status, challenge, error) => {
    const r = await v.authorize(req, scopes);
    if (status === 200) {
      assert.ok(!(r instanceof Response), `want a principal, got ${r.status}`);
      return r;
    }
    assert.ok(r instanceof Response);
    assert.equal(r.status, status);
    assert.equal(r.headers.get('www-authenticate'), challenge);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const body = await r.json();
    assert.equal(body.error, error);
    assert.ok(!JSON.stringify(body).includes(tok));
    return r;
  };
  await check(new Request(RESOURCE), ['mcp:tools'], 401, `Bearer resource_metadata="${meta}", scope="mcp:tools"`, 'unauthorized');
  await check(new Request(RESOURCE + '?access_token=' + tok), ['mcp:tools'], 401, `Bearer resource_metadata="${meta}", scope="mcp:tools"`, 'unauthorized');
  await check(new Request(RESOURCE, { method: 'POST', body: new URLSearchParams({ access_token: tok }) }), [], 401, `Bearer resource_metadata="${meta}"`, 'unauthorized');
  await check(new Request(RESOURCE, { headers: { Authorization: 'Basic dTpw' } }), ['mcp:tools'], 401, `Bearer resource_metadata="${meta}", scope="mcp:tools"`, 'unauthorized');
  await check(bearer('garbage'), ['mcp:tools'], 401, `Bearer resource_metadata="${meta}", scope="mcp:tools", error="invalid_token"`, 'invalid_token');
  await check(bearer(tok + ' extra'), ['mcp:tools'], 401, `Bearer resource_metadata="${meta}", scope="mcp:tools", error="invalid_token"`, 'invalid_token');
  await check(new Request(RESOURCE, { headers: { Authorization: 'Bearer ' } }), [], 401, `Bearer resource_metadata="${meta}", error="invalid_token"`, 'invalid_token');
  await check(bearer(tok), ['mcp:tools', 'mcp:admin'], 403, `Bearer resource_metadata="${meta}", scope="mcp:tools mcp:admin", error="insufficient_scope"`, 'insufficient_scope');
  const p = await check(new Request(RESOURCE, { headers: { authorization: `bearer ${tok}` } }), ['mcp:tools'], 200);
  assert.equal(p.subject, 'user-1');
  // API keys off: X-API-Key is not read, Bearer ak_ is refused.
  await check(new Request(RESOURCE, { headers: { 'X-API-Key': 'ak_123' } }), [], 401, `Bearer resource_metadata="${meta}"`, 'unauthorized');
  await check(bearer('ak_123'), [], 401, `Bearer resource_metadata="${meta}", error="invalid_token"`, 'invalid_token');
  // protect() wraps a handler.
  const h = v.protect(['mcp:tools'], (_req, principal) => Response.json({ sub: principal.subject }));
  assert.deepEqual(await (await h(bearer(tok))).json(), { sub: 'user-1' });
  assert.equal((await h(new Request(RESOURCE))).status, 401);
  // Scopes named by authorize/protect join the metadata.
  assert.deepEqual(v.metadata().scopes_supported, ['extra:scope', 'mcp:tools', 'mcp:admin']);
  assert.throws(() => v.errorAnswer(new Error('boom')), /boom/, 'other errors are not turned into 401s');
});

test('API keys through introspection: off by default, cached briefly', async () => {
  const { iss, clock } = await setup();
  assert.throws(() => new Verifier({ issuer: ISSUER, resource: RESOURCE, acceptApiKeys: true }), /introspectionKey/);
  const v = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now, acceptApiKeys: true,
    introspectionKey: 'ak_server', introspectionCacheTtl: 30 });
  const exp = Math.floor(clock.now() / 1000) + 3600;
  iss.introspection.set('ak_user', { active: true, token_type: 'api_key', sub: 'user-9', key_id: 'key-9', scope: 'profile:read', email: 'k@example.com', exp });
  const p = await v.authenticate(new Request(RESOURCE, { headers: { 'X-API-Key': 'ak_user' } }));
  assert.equal(iss.lastIntrospectionKey, 'ak_server');
  assert.deepEqual([p.subject, p.keyId, p.tokenType, p.scopes.join(' '), p.email, p.expiresAt], ['user-9', 'key-9', 'api_key', 'profile:read', 'k@example.com', exp]);
  assert.equal((await v.authenticate(bearer('ak_user'))).subject, 'user-9');
  assert.equal(iss.fetches.introspect, 1, 'the second use came from the cache');
  iss.introspection.delete('ak_user'); // revoked
  clock.advance(29);
  assert.equal(await reasonOf(v.verifyApiKey('ak_user')), 'accepted');
  clock.advance(1);
  assert.equal(await reasonOf(v.verifyApiKey('ak_user')), 'invalid_token: API key not active');
  assert.equal(iss.fetches.introspect, 2);
  iss.introspection.set('ak_tok', { active: true, token_type: 'access_token', sub: 'u' });
  assert.equal(await reasonOf(v.verifyApiKey('ak_tok')), 'invalid_token: not an API key');
  const both = await v.authorize(new Request(RESOURCE, { headers: { 'X-API-Key': 'ak_user', Authorization: 'Bearer x.y.z' } }));
  assert.equal(both.status, 400);
  assert.match(both.headers.get('www-authenticate'), /error="invalid_request"/);
  iss.down = true;
  assert.equal(await reasonOf(v.verifyApiKey('ak_other')), 'unavailable: introspection unreachable');
});

test('session check: a revoked session is refused at once, a live one cached for 5 s', async () => {
  const { iss, clock } = await setup();
  const v = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now, checkSessions: true, introspectionKey: 'ak_server' });
  const plain = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now });
  const tok = await iss.mint();
  iss.introspection.set(tok, { active: true, token_type: 'access_token', sub: 'user-1', sid: 'sess-1' });
  assert.equal(await reasonOf(v.verify(tok)), 'accepted');
  assert.equal(await reasonOf(v.verify(tok)), 'accepted');
  assert.equal(iss.fetches.introspect, 1);
  iss.introspection.delete(tok); // logged out
  clock.advance(5);
  assert.equal(await reasonOf(v.verify(tok)), 'invalid_token: token or session revoked');
  assert.equal(await reasonOf(v.verify(tok)), 'invalid_token: token or session revoked');
  assert.equal(iss.fetches.introspect, 2, 'a revoked answer is remembered');
  assert.equal(await reasonOf(plain.verify(tok)), 'accepted', 'without the check the token stands until it expires');
  const t2 = await iss.mint({ sub: 'user-2' });
  iss.introspection.set(t2, { active: true, sub: 'user-3' });
  assert.equal(await reasonOf(v.verify(t2)), 'invalid_token: introspection disagrees with the token');
});

test('metadata: RFC 9728 document at the path-inserted and root well-known paths', async () => {
  const { v } = await setup({ scopesSupported: ['mcp:tools'], resourceName: 'Example' });
  assert.equal(v.metadataUrl, 'https://api.example.test/.well-known/oauth-protected-resource/mcp');
  assert.deepEqual(v.metadataPaths, ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']);
  for (const path of v.metadataPaths) {
    const r = v.metadataResponse(new Request('https://api.example.test' + path));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await r.json(), { resource: RESOURCE, authorization_servers: [ISSUER], bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'], resource_name: 'Example' });
  }
  assert.equal(v.metadataResponse(new Request('https://api.example.test/mcp')), undefined);
  assert.equal(v.metadataResponse(new Request('https://api.example.test' + v.metadataPaths[0], { method: 'OPTIONS' })).status, 204);
  assert.equal(v.metadataResponse(new Request('https://api.example.test' + v.metadataPaths[0], { method: 'POST' })).status, 405);
  const head = v.metadataResponse(new Request('https://api.example.test' + v.metadataPaths[0], { method: 'HEAD' }));
  assert.equal(head.status, 200);
  const root = new Verifier({ issuer: ISSUER, resource: 'https://api.example.test' });
  assert.deepEqual(root.metadataPaths, ['/.well-known/oauth-protected-resource']);
  assert.equal(root.metadataUrl, 'https://api.example.test/.well-known/oauth-protected-resource');
});

test('configuration is checked up front', () => {
  const bad = [
    [{ resource: RESOURCE }, /issuer is required/],
    [{ issuer: ISSUER }, /resource is required/],
    [{ issuer: ISSUER + '/', resource: RESOURCE }, /must not end with a slash/],
    [{ issuer: 'ftp://x', resource: RESOURCE }, /not an absolute http/],
    [{ issuer: ISSUER, resource: RESOURCE + '#x' }, /fragment/],
    [{ issuer: ISSUER, resource: RESOURCE + '?a=1' }, /query/],
    [{ issuer: ISSUER, resource: RESOURCE, leeway: 301 }, /leeway/],
    [{ issuer: ISSUER, resource: RESOURCE, checkSessions: true }, /introspectionKey/],
  ];
  for (const [o, re] of bad) assert.throws(() => new Verifier(o), re, JSON.stringify(o));
});

test('Edge runtimes: without node:crypto the cache key comes from Web Crypto, and is the same', async () => {
  const { sha256Key: nodeHash } = await import('../dist/hash.js');
  const saved = process.getBuiltinModule;
  process.getBuiltinModule = undefined;
  let webHash;
  try {
    ({ sha256Key: webHash } = await import('../dist/hash.js?edge'));
  } finally {
    process.getBuiltinModule = saved;
  }
  const tok = 'eyJhbGciOiJFUzI1NiJ9.é.x';
  assert.equal(typeof nodeHash(tok), 'string', 'synchronous on Node');
  const web = webHash(tok);
  assert.ok(web instanceof Promise, 'Web Crypto digest is asynchronous');
  assert.equal(await web, nodeHash(tok));
});

test('the core imports nothing but jose', async () => {
  const { readFile, readdir } = await import('node:fs/promises');
  const dir = new URL('../dist/', import.meta.url);
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.js') && f !== 'mcp.js')) {
    const src = await readFile(new URL(f, dir), 'utf8');
    for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2];
      assert.ok(spec.startsWith('./') || spec === 'jose', `${f} imports ${spec}`);
    }
  }
  void generateKeyPair;
});

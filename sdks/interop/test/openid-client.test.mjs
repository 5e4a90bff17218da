// Interop: openid-client (v6, a certified OpenID Connect relying party library) signs a user in
// through Gatehouse as a pre-registered confidential client: discovery from the issuer, the code
// flow with PKCE, nonce and state, RFC 9207 iss in the authorization response (checked because
// the metadata says authorization_response_iss_parameter_supported), the ID token validated
// (signature against the JWKS, iss, aud, nonce, and at_hash checked here), userinfo, a refresh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { registerUser, startGatehouse } from './gatehouse.mjs';
import { OAuthUser } from './user-agent.mjs';

const REDIRECT = 'http://127.0.0.1:53683/auth/callback'; // never listened on

let gatehouse;
let config;
let clientId;

before(async () => {
  gatehouse = await startGatehouse();
  const r = await gatehouse.admin('POST', '/api/v1/admin/oauth/clients', {
    name: 'openid-client relying party',
    redirect_uris: [REDIRECT],
    confidential: true,
    grant_types: ['authorization_code', 'refresh_token'],
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.ok(r.body.client_secret, 'a confidential client has a secret');
  clientId = r.body.client_id;
  // Discovery from the issuer identifier; loopback http is allowed for the test only; ID token
  // signatures are checked against the JWKS (openid-client skips that by default for ID tokens
  // that come straight from the token endpoint).
  config = await oidc.discovery(new URL(gatehouse.url), clientId, undefined, oidc.ClientSecretBasic(r.body.client_secret), {
    execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
  });
});

after(async () => {
  await gatehouse?.stop();
});

/** An openid-client error about the authorization response's iss (RFC 9207). */
function issError(e) {
  const text = `${e.message} ${e.cause?.message ?? ''} ${e.cause?.code ?? ''} ${JSON.stringify(e.cause ?? {})}`;
  assert.match(text, /\biss\b/, text);
  return true;
}

/** at_hash (OIDC Core §3.1.3.6): base64url of the left half of the hash of the access token. */
function atHash(accessToken, alg) {
  const bits = { ES256: 'sha256', RS256: 'sha256', PS256: 'sha256', ES384: 'sha384', ES512: 'sha512', EdDSA: 'sha512' }[alg];
  const digest = createHash(bits).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

test('openid-client: discovery, code + PKCE + nonce + state, ID token, userinfo, refresh', async (t) => {
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, gatehouse.url);
  assert.equal(meta.authorization_response_iss_parameter_supported, true);

  const account = await registerUser(gatehouse.url, 'oidc-rp');
  const user = new OAuthUser(gatehouse.url, account);
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const authURL = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const callback = await user.authorize(authURL.href);
  assert.equal(callback.origin + callback.pathname, REDIRECT);
  assert.equal(callback.searchParams.get('error'), null, callback.href);

  await t.test('a callback whose iss is not the issuer is refused before the code is spent', async () => {
    const forged = new URL(callback);
    forged.searchParams.set('iss', 'http://evil.example');
    await assert.rejects(
      oidc.authorizationCodeGrant(config, forged, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true }),
      issError,
    );
    const missing = new URL(callback);
    missing.searchParams.delete('iss');
    await assert.rejects(
      oidc.authorizationCodeGrant(config, missing, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true }),
      issError,
    );
  });

  let tokens;
  try {
    tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    });
  } catch (e) {
    throw new Error(`authorizationCodeGrant: ${e.message} ${JSON.stringify(e.cause ?? '')}\n${gatehouse.logs().slice(-3000)}`);
  }
  const claims = tokens.claims();

  await t.test('the ID token', async () => {
    assert.equal(claims.iss, gatehouse.url);
    assert.equal(claims.aud === clientId || (Array.isArray(claims.aud) && claims.aud.includes(clientId)), true, `aud ${claims.aud}`);
    assert.equal(claims.sub, account.id);
    assert.equal(claims.nonce, nonce);
    assert.equal(typeof claims.auth_time, 'number');
    const alg = decodeProtectedHeader(tokens.id_token).alg;
    assert.ok(meta.id_token_signing_alg_values_supported.includes(alg), `alg ${alg} is listed`);
    assert.equal(claims.at_hash, atHash(tokens.access_token, alg), 'at_hash matches the access token');
    // And once more with jose alone, pinned to the listed algorithms.
    const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(meta.jwks_uri)), {
      issuer: gatehouse.url,
      audience: clientId,
      algorithms: meta.id_token_signing_alg_values_supported,
    });
    assert.equal(payload.sub, account.id);
  });

  await t.test('userinfo', async () => {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, account.id);
    assert.equal(info.sub, account.id);
    assert.equal(info.email, account.email);
  });

  await t.test('refresh', async () => {
    assert.ok(tokens.refresh_token, 'a refresh token was issued');
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(next.access_token);
    assert.notEqual(next.access_token, tokens.access_token);
    assert.ok(next.refresh_token, 'a rotated refresh token');
    assert.notEqual(next.refresh_token, tokens.refresh_token);
    if (next.id_token) {
      // OIDC Core §12.2: same iss and sub, aud the client; openid-client checks these.
      assert.equal(next.claims().sub, account.id);
    }
    const info = await oidc.fetchUserInfo(config, next.access_token, account.id);
    assert.equal(info.sub, account.id);
    if (next.id_token) {
      const c = next.claims();
      t.diagnostic(`ID token on refresh: auth_time ${c.auth_time} (first ${claims.auth_time}), nonce ${c.nonce ?? 'absent'}`);
      // OIDC Core §12.2: auth_time is that of the original authentication; a nonce, if any, the original's.
      assert.equal(c.auth_time, claims.auth_time);
      if (c.nonce !== undefined) assert.equal(c.nonce, nonce);
    }
    tokens = next;
  });

  await t.test('introspection (RFC 7662) and revocation (RFC 7009) as the confidential client', async () => {
    const active = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, account.id);
    assert.equal(active.client_id, clientId);
    await oidc.tokenRevocation(config, tokens.refresh_token);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => {
      assert.equal(e.error, 'invalid_grant', `${e.message} ${e.error}`);
      return true;
    });
    const after = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(after.active, false, 'revoking the refresh token ends the grant session, its access token included');
  });

  await t.test('a second sign-in with prompt=none: remembered consent, no page shown', async () => {
    const v2 = oidc.randomPKCECodeVerifier();
    const n2 = oidc.randomNonce();
    const s2 = oidc.randomState();
    const pagesBefore = user.pages.length;
    const back = await user.authorize(oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(v2),
      code_challenge_method: 'S256',
      nonce: n2,
      state: s2,
      prompt: 'none',
    }).href);
    assert.equal(back.searchParams.get('error'), null, back.href);
    assert.equal(user.pages.length, pagesBefore, 'no page was shown');
    const t2 = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: v2, expectedNonce: n2, expectedState: s2, idTokenExpected: true });
    assert.equal(t2.claims().sub, account.id);
    assert.equal(t2.claims().auth_time, claims.auth_time, 'the same sign-in');
  });
});

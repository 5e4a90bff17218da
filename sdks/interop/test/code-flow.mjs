// OAuth access tokens from a real Gatehouse the way an app gets them, for tests that need real
// tokens rather than a client library's flow: dynamic registration of a public client, the
// authorization code flow with PKCE S256 and resource (RFC 8707), the user played by OAuthUser
// (sign-in on /login, approval on the consent page), and the code exchanged at /oauth2/token.
import { createHash, randomBytes } from 'node:crypto';
import { OAuthUser } from './user-agent.mjs';

const REDIRECT = 'http://127.0.0.1:53682/callback'; // never listened on: the redirect is read, not followed

/** Registers a public client by RFC 7591; returns its client_id. */
export async function registerClient(gatehouseURL, name = 'code-flow test client') {
  const res = await fetch(gatehouseURL + '/oauth2/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none' }),
  });
  if (res.status !== 201) throw new Error(`register client: ${res.status} ${await res.text()}`);
  return (await res.json()).client_id;
}

/**
 * Runs the code flow for account ({email, password}) and returns the token response
 * ({access_token, refresh_token, scope, …}) plus client_id. resource and scope go into the
 * authorization request as given.
 */
export async function codeFlowToken(gatehouseURL, account, { resource, scope, clientId } = {}) {
  clientId ??= await registerClient(gatehouseURL);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const u = new URL(gatehouseURL + '/oauth2/authorize');
  const q = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' };
  if (resource) q.resource = resource;
  if (scope) q.scope = scope;
  u.search = new URLSearchParams(q).toString();
  const back = await new OAuthUser(gatehouseURL, account).authorize(u.href);
  if (back.searchParams.get('state') !== state) throw new Error(`authorization answered ${back}`);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`authorization answered ${back}`);
  const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier };
  if (resource) form.resource = resource;
  const res = await fetch(gatehouseURL + '/oauth2/token', { method: 'POST', body: new URLSearchParams(form) });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
  return { ...body, client_id: clientId };
}

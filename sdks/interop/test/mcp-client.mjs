// The OAuthClientProvider of the MCP TypeScript SDK tests: everything in memory, and the user
// played over HTTP where a desktop client would open a browser.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const REDIRECT = 'http://127.0.0.1:53682/callback'; // never listened on: the provider reads the redirect

/** An OAuthClientProvider that keeps everything in memory and plays the user when asked. */
export class InteropProvider {
  /** clientMetadataUrl, when set, is a Client ID Metadata Document's URL (SEP-991). */
  constructor(issuer, user, clientMetadataUrl) {
    if (clientMetadataUrl) this.clientMetadataUrl = clientMetadataUrl;
    this.issuer = issuer;
    this.user = user;
    this.authorizationURLs = [];
    this.savedTokens = [];
    this.code = undefined;
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: 'TypeScript SDK interop client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this.expectedState = randomBytes(16).toString('base64url');
    return this.expectedState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.current;
  }
  saveTokens(tokens) {
    this.current = tokens;
    this.savedTokens.push(tokens);
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  // Where a desktop client opens a browser: the user signs in and consents, and the redirect's
  // state and iss are checked here (the SDK leaves both to the application; RFC 9207 §2.4).
  async redirectToAuthorization(url) {
    this.authorizationURLs.push(new URL(url));
    const back = await this.user.authorize(url);
    const q = back.searchParams;
    assert.equal(back.origin + back.pathname, REDIRECT, 'redirected to the registered redirect URI');
    assert.equal(q.get('error'), null, `authorization error: ${q.get('error')} ${q.get('error_description')}`);
    assert.equal(q.get('state'), this.expectedState, 'state echoed');
    assert.equal(q.get('iss'), this.issuer, 'iss in the authorization response (RFC 9207)');
    this.code = q.get('code');
  }
}

/** A fetch that records method, URL, grant type, body and status of every request into exchanges. */
export function recordingFetchInto(exchanges) {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    let grantType;
    if (init?.body instanceof URLSearchParams) grantType = init.body.get('grant_type');
    else if (typeof init?.body === 'string' && init.body.includes('grant_type=')) grantType = new URLSearchParams(init.body).get('grant_type');
    exchanges.push({ method: init?.method ?? 'GET', url, grantType, status: res.status, body: init?.body });
    return res;
  };
}

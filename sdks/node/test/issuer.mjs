// A stand-in for Gatehouse in the unit tests: ES256 keys made here, the JWKS and the
// introspection endpoint answered by an injected fetch (no network), tokens signed as Gatehouse
// signs them (typ at+jwt, kid), with any claim or header the test wants — including the ones
// Gatehouse never issues (several audiences, other algorithms). The real binary is in
// gatehouse.test.mjs.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export const ISSUER = 'https://auth.example.test';
export const RESOURCE = 'https://api.example.test/mcp';

export class StandIn {
  constructor(clock) {
    this.clock = clock;
    this.keys = []; // { kid, alg, privateKey, jwk }
    this.fetches = { jwks: 0, introspect: 0 };
    this.introspection = new Map(); // credential -> answer
    this.down = false;
    this.fetch = async (input, init) => {
      const url = String(input);
      if (this.down) throw new TypeError('fetch failed');
      if (url === ISSUER + '/.well-known/jwks.json') {
        this.fetches.jwks++;
        return Response.json({ keys: this.keys.filter((k) => k.published).map((k) => k.jwk) });
      }
      if (url === ISSUER + '/api/v1/auth/introspect') {
        this.fetches.introspect++;
        this.lastIntrospectionKey = new Headers(init.headers).get('x-api-key');
        const { token } = JSON.parse(init.body);
        return Response.json(this.introspection.get(token) ?? { active: false });
      }
      return new Response('not found', { status: 404 });
    };
  }

  /** Adds a signing key (ES256 unless alg says otherwise) and publishes it; returns its kid. */
  async addKey(alg = 'ES256', { publish = true, jwkAlg = alg } = {}) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `k${this.keys.length + 1}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
    if (jwkAlg) jwk.alg = jwkAlg;
    this.keys.push({ kid, alg, privateKey, jwk, published: publish });
    return kid;
  }

  withdraw(kid) {
    this.keys.find((k) => k.kid === kid).published = false;
  }

  /** Signs an access token; claims and header fields override Gatehouse's. */
  async mint(claims = {}, { kid, header = {}, key } = {}) {
    const k = kid ? this.keys.find((x) => x.kid === kid) : this.keys[this.keys.length - 1];
    const now = Math.floor(this.clock.now() / 1000);
    const body = { iss: ISSUER, sub: 'user-1', aud: RESOURCE, iat: now, exp: now + 900, jti: `j${Math.random()}`, sid: 'sess-1',
      client_id: 'client-1', scope: 'mcp:tools', ...claims };
    for (const [n, v] of Object.entries(body)) if (v === undefined) delete body[n];
    return new SignJWT(body).setProtectedHeader({ alg: k.alg, typ: 'at+jwt', kid: k.kid, ...header }).sign(key ?? k.privateKey);
  }
}

/** A clock the tests move by hand (milliseconds). */
export class Clock {
  constructor(t = Date.now()) {
    this.t = t;
    this.now = () => this.t;
  }
  advance(seconds) {
    this.t += seconds * 1000;
  }
}

/** A logger that keeps what it is told. */
export function recordingLogger() {
  const lines = [];
  return { lines, error: (msg, details) => lines.push({ msg, details }) };
}

// Pages Router: the server entry loads from plain Node ESM (as Next's Pages Router server does with
// external packages), and getAuth(req) reads a Node IncomingMessage.
import { describe, expect, it, inject, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { createGatehouse } from '../src/server.js';
import { DEAD_URL, register } from './helpers.js';
import type { TokenResponse } from '../src/client.js';

const main = inject('main');
const sdkDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = promisify(execFile);

/** A Node IncomingMessage as getServerSideProps' context.req or an API route's req. */
function incoming(headers: Record<string, string | string[]>, url = '/pages-router'): IncomingMessage {
  const m = Readable.from([]) as unknown as IncomingMessage;
  Object.assign(m, { headers, url, method: 'GET', socket: {} });
  return m;
}

describe('the built entries load from plain Node ESM (Pages Router)', () => {
  for (const entry of ['server', 'middleware', 'index']) {
    it(`node imports dist/${entry}.js`, async () => {
      const script = `const m = await import(${JSON.stringify('./dist/' + entry + '.js')}); console.log(Object.keys(m).sort().join(','));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: sdkDir });
      if (entry === 'server') expect(stdout).toContain('getAuth');
      if (entry === 'middleware') expect(stdout).toContain('createMiddleware');
    });
  }
});

describe('getAuth(req)', () => {
  let alice: TokenResponse;
  beforeAll(async () => {
    alice = await register(main.url);
  });
  const g = () => createGatehouse({ apiKey: main.appKey, authUrl: main.url });

  it('verifies the session cookie of an IncomingMessage and returns the session without a token', async () => {
    const s = await g().getAuth(incoming({ host: 'localhost:3000', cookie: `x=1; gatehouse_access_token=${alice.access_token}` }));
    expect(s?.kind).toBe('session');
    expect(s?.user.id).toBe(alice.user.id);
    expect(s?.user.email).toBe(alice.user.email);
    expect(JSON.stringify(s)).not.toContain(alice.access_token);
  });

  it('reads the __Host- cookie behind https (X-Forwarded-Proto)', async () => {
    const h = { host: 'app.example.com', 'x-forwarded-proto': 'https', cookie: `__Host-gatehouse_access_token=${alice.access_token}` };
    expect((await g().getAuth(incoming(h)))?.user.id).toBe(alice.user.id);
    // The plain name is ignored over https.
    const plain = { host: 'app.example.com', 'x-forwarded-proto': 'https', cookie: `gatehouse_access_token=${alice.access_token}` };
    expect(await g().getAuth(incoming(plain))).toBeNull();
  });

  it('reads Authorization: Bearer, and X-API-Key', async () => {
    expect((await g().getAuth(incoming({ authorization: `Bearer ${alice.access_token}` })))?.user.id).toBe(alice.user.id);
    const key = await g().getAuth(incoming({ 'x-api-key': main.appKey }));
    expect(key?.kind).toBe('api_key');
    expect(key?.scopes).toContain('tokens:introspect');
    expect(await g().getAuth(incoming({ 'x-api-key': main.appKey }), { allowApiKey: false })).toBeNull();
    expect(await g().getAuth(incoming({ 'x-api-key': main.appKey }), { apiKeyScopes: ['nope'] })).toBeNull();
  });

  it('refuses forged and missing tokens, and never refreshes', async () => {
    expect(await g().getAuth(incoming({}))).toBeNull();
    const forged = alice.access_token.slice(0, -4) + 'AAAA';
    expect(await g().getAuth(incoming({ cookie: `gatehouse_access_token=${forged}` }))).toBeNull();
    // Only a refresh cookie: no session, and the refresh token is not spent.
    const fresh = await register(main.url);
    expect(await g().getAuth(incoming({ cookie: `gatehouse_refresh_token=${fresh.refresh_token}` }))).toBeNull();
    const r = await fetch(`${main.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: fresh.refresh_token }),
    });
    expect(r.status).toBe(200);
  });

  it('throws GatehouseUnavailableError when Gatehouse cannot be reached', async () => {
    const down = createGatehouse({ apiKey: main.appKey, authUrl: DEAD_URL });
    await expect(down.getAuth(incoming({ cookie: `gatehouse_access_token=${alice.access_token}` }))).rejects.toThrow(/unavailable|reach|gatehouse/i);
  });

  it('the default getAuth export reads the GATEHOUSE_* environment', async () => {
    const mod = await import('../src/server.js');
    expect(typeof mod.getAuth).toBe('function');
  });
});

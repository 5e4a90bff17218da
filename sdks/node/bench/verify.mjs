// Verification throughput of the kit on one core (Node runs JavaScript on one thread):
//   node bench/verify.mjs        (after ./build.sh)
// A stand-in issuer (test/issuer.mjs) signs ES256 tokens as Gatehouse does; its JWKS is served
// by an injected fetch, so no network is measured. Reported: verifications per second of a
// token seen before (the verified-token cache: a SHA-256 and a Map look-up), of the whole
// fetch-style guard for such a token (headers to principal, scope checked), and of tokens seen
// for the first time (ES256 signature and claims).
import { Verifier } from '../dist/index.js';
import { Clock, ISSUER, RESOURCE, StandIn } from '../test/issuer.mjs';

const clock = new Clock();
const iss = new StandIn(clock);
await iss.addKey();
const v = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch });

async function rate(name, n, fn) {
  for (let i = 0; i < Math.min(n, 2000); i++) await fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const ns = Number(process.hrtime.bigint() - t0);
  const perOp = ns / n / 1000;
  console.log(`${name.padEnd(58)} ${perOp.toFixed(2).padStart(8)} µs/op ${Math.round(1e9 / (ns / n)).toLocaleString('en-US').padStart(12)} ops/s`);
}

const tok = await iss.mint({ scope: 'mcp:tools' });
await v.verify(tok);
await rate('verify, token seen before (cached)', 500_000, () => v.verify(tok));
const req = new Request(RESOURCE, { headers: { Authorization: `Bearer ${tok}` } });
await rate('authorize(Request, [mcp:tools]), token seen before', 200_000, () => v.authorize(req, ['mcp:tools']));
const fresh = await Promise.all(Array.from({ length: 4000 }, (_, i) => iss.mint({ sub: `u${i}` })));
const uncached = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, tokenCacheSize: -1 });
await uncached.verify(fresh[0]);
await rate('verify, first sight of a token (ES256 signature + claims)', 4000, (i) => uncached.verify(fresh[i]));
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);

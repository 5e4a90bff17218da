"""Benchmark of the kit's verification (one process, one core: Python runs one thread at a time).

    python bench.py [--seconds N]

- verify, token seen before: the verified-token cache (SHA-256 of the token + a dict look-up);
- verify, first sight of a token with the key cached: ES256 signature + claims (cache off);
- the ASGI middleware, headers to the app, token seen before.
The JWKS is served in process (httpx.MockTransport); no network is involved."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

import httpx  # noqa: E402
import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from jwt.algorithms import ECAlgorithm  # noqa: E402

from gatehouse_auth import Verifier  # noqa: E402
from gatehouse_auth.asgi import GatehouseMiddleware  # noqa: E402

ISSUER, RESOURCE = "http://gatehouse.test", "http://api.test/mcp"


def setup(cache: bool) -> tuple[Verifier, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = uuid.uuid4().hex
    jwk = dict(json.loads(ECAlgorithm.to_jwk(key.public_key())), kid=kid, alg="ES256", use="sig")
    transport = httpx.MockTransport(lambda req: httpx.Response(200, json={"keys": [jwk]}))
    v = Verifier(ISSUER, RESOURCE, http_client=httpx.AsyncClient(transport=transport),
                 token_cache_size=None if cache else 0)
    now = int(time.time())
    tok = jwt.encode({"iss": ISSUER, "sub": "user-1", "aud": RESOURCE, "exp": now + 3600, "iat": now,
                      "jti": "j", "sid": "s", "client_id": "c", "scope": "mcp:tools"},
                     key, algorithm="ES256", headers={"typ": "at+jwt", "kid": kid})
    return v, tok


async def rate(seconds: float, op) -> float:
    await op()  # warm: the JWKS is fetched and cached here
    n, batch = 0, 200
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            await op()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


async def main(seconds: float) -> None:
    v, tok = setup(cache=True)
    cached = await rate(seconds, lambda: v.verify(tok))
    v2, tok2 = setup(cache=False)
    fresh = await rate(seconds, lambda: v2.verify(tok2))

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    mw = GatehouseMiddleware(app, v, scopes=["mcp:tools"], paths=["/mcp"])
    scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": [(b"authorization", f"Bearer {tok}".encode())]}

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(msg):
        pass

    async def request():
        await mw(dict(scope), receive, send)

    whole = await rate(seconds, request)
    print(f"python {sys.version.split()[0]}, one core")
    for name, r in [("verify, token seen before (verified-token cache)", cached),
                    ("verify, first sight, key cached (ES256 signature + claims)", fresh),
                    ("ASGI middleware, headers to app, token seen before", whole)]:
        print(f"  {name:<62} {r:>10,.0f} ops/s  {1e6 / r:8.2f} µs/op")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0, help="time per benchmark")
    asyncio.run(main(ap.parse_args().seconds))

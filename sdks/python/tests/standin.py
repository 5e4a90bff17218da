"""A stand-in for Gatehouse's JWKS on loopback, for the cases a real Gatehouse never produces
(several audiences, HMAC and "none" tokens, a foreign typ, keys withdrawn): it publishes the
keys the test gives it, counts the fetches, and mints tokens signed as Gatehouse signs them."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class Key:
    def __init__(self, kind: str = "EC") -> None:
        self.kid = uuid.uuid4().hex
        if kind == "EC":
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
            self.jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.alg = "RS256"
            self.jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})


class StandIn:
    def __init__(self) -> None:
        self.keys: list[Key] = [Key()]
        self.fetches = 0
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.fetches += 1
                if outer.fail or self.path != "/.well-known/jwks.json":
                    self.send_response(500 if outer.fail else 404)
                    self.end_headers()
                    return
                body = json.dumps({"keys": [k.jwk for k in outer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def mint(self, now: float, aud: Any, key: Key | None = None, headers: dict | None = None, **claims: Any) -> str:
        key = key or self.keys[0]
        body = {"iss": self.url, "sub": "user-1", "aud": aud, "exp": int(now) + 900, "iat": int(now),
                "jti": uuid.uuid4().hex, "sid": "session-1", "client_id": "client-1", "scope": "mcp:tools"}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        h = {"typ": "at+jwt", "kid": key.kid}
        h.update(headers or {})
        return jwt.encode(body, key.private, algorithm=key.alg, headers=h)

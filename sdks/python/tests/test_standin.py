"""Cases a real Gatehouse never produces, against a stand-in JWKS: several audiences, HMAC and
"none" tokens, foreign typ, the refetch throttle, the caches, withdrawn keys, an unreachable
issuer, and the configuration checks. Time is an injected clock, never a sleep."""

from __future__ import annotations

import asyncio
import base64
import json

import jwt
import pytest

from gatehouse_auth import InsufficientScope, InvalidToken, NoToken, Principal, Unavailable, Verifier, require_scopes
from standin import Key

pytestmark = pytest.mark.anyio
RES = "http://127.0.0.1:9/mcp"


def verifier(standin, clock, **kw) -> Verifier:
    return Verifier(standin.url, RES, now=clock, **kw)


def b64(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


async def test_audience_is_equality(standin, clock):
    v = verifier(standin, clock)
    assert (await v.verify(standin.mint(clock.t, RES))).subject == "user-1"
    assert (await v.verify(standin.mint(clock.t, [RES]))).subject == "user-1"
    for aud, reason in [
        ([RES, "http://127.0.0.1:9/other"], "token is for several audiences"),
        ([RES, RES], "token is for several audiences"),
        (RES + "/", "token is for another resource"),
        (RES.upper(), "token is for another resource"),
        ("http://127.0.0.1:9", "token is for another resource"),
        (RES + "x", "token is for another resource"),
        ([], 'token has no "aud"'),
        (None, 'token has no "aud"'),
        (42, 'malformed "aud"'),
    ]:
        with pytest.raises(InvalidToken) as e:
            await v.verify(standin.mint(clock.t, aud))
        assert e.value.reason == reason, aud
    multi = verifier(standin, clock, allow_multiple_audiences=True)
    assert (await multi.verify(standin.mint(clock.t, [RES, "http://127.0.0.1:9/other"]))).subject == "user-1"
    with pytest.raises(InvalidToken, match="another resource"):
        await multi.verify(standin.mint(clock.t, ["http://a.example", "http://b.example"]))


async def test_algorithm_pinned_to_the_key(standin, clock):
    v = verifier(standin, clock)
    key = standin.keys[0]
    good = standin.mint(clock.t, RES)
    h, p, _ = good.split(".")
    # "none", and HMAC with the public key as the secret (the classic confusion).
    none = b64({"alg": "none", "typ": "at+jwt", "kid": key.kid}) + "." + p + "."
    with pytest.raises(InvalidToken, match="algorithm does not match"):
        await v.verify(none)
    import hashlib
    import hmac

    hs_header = b64({"alg": "HS256", "typ": "at+jwt", "kid": key.kid})
    secret = json.dumps(key.jwk).encode()
    sig = base64.urlsafe_b64encode(hmac.new(secret, f"{hs_header}.{p}".encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="algorithm does not match"):
        await v.verify(f"{hs_header}.{p}.{sig}")
    # An RSA key published for RS256 does not verify PS256, nor does an EC key ES384.
    rsa = Key("RSA")
    standin.keys.append(rsa)
    clock.advance(11)
    with pytest.raises(InvalidToken, match="algorithm does not match"):
        await v.verify(jwt.encode({"iss": standin.url, "sub": "u", "aud": RES, "exp": clock.t + 60, "iat": clock.t},
                                  rsa.private, algorithm="PS256", headers={"typ": "at+jwt", "kid": rsa.kid}))
    assert (await v.verify(standin.mint(clock.t, RES, key=rsa))).subject == "user-1"
    with pytest.raises(InvalidToken, match="critical"):
        await v.verify(standin.mint(clock.t, RES, headers={"crit": ["exp"], "exp": 1}))


async def test_typ_must_be_at_jwt(standin, clock):
    v = verifier(standin, clock)
    for typ in ("at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"):
        assert (await v.verify(standin.mint(clock.t, RES, headers={"typ": typ}))).subject == "user-1"
    for typ in ("JWT", "jwt", "at+jwt ", "application/jwt", None):
        with pytest.raises(InvalidToken, match='not "at\\+jwt"'):
            await v.verify(standin.mint(clock.t, RES, headers={"typ": typ}))


async def test_time_claims_with_leeway(standin, clock):
    v = verifier(standin, clock)
    t = clock.t
    assert await v.verify(standin.mint(t, RES, exp=int(t) - 4))  # within the 5 s leeway
    with pytest.raises(InvalidToken, match="expired"):
        await v.verify(standin.mint(t, RES, exp=int(t) - 6))
    assert await v.verify(standin.mint(t, RES, nbf=int(t) + 4))
    with pytest.raises(InvalidToken, match="not valid yet"):
        await v.verify(standin.mint(t, RES, nbf=int(t) + 6))
    with pytest.raises(InvalidToken, match="issued in the future"):
        await v.verify(standin.mint(t, RES, iat=int(t) + 60))
    for claims, reason in [({"exp": None}, '"exp"'), ({"exp": "9999999999"}, '"exp"'),
                           ({"exp": True}, '"exp"'), ({"iat": None}, '"iat"'), ({"sub": None}, '"sub"'),
                           ({"sub": 7}, "malformed claims"), ({"scope": ["mcp:tools"]}, "malformed claims"),
                           ({"iss": standin.url + "/"}, "another issuer")]:
        with pytest.raises(InvalidToken, match=reason):
            await v.verify(standin.mint(t, RES, **claims))
    strict = verifier(standin, clock, leeway=0)
    with pytest.raises(InvalidToken, match="expired"):
        await strict.verify(standin.mint(t, RES, exp=int(t)))


async def test_verified_token_cache(standin, clock):
    v = verifier(standin, clock)
    tok = standin.mint(clock.t, RES, exp=int(clock.t) + 60)
    p1 = await v.verify(tok)
    standin.fail = True  # nothing can be fetched any more: the cache answers
    assert await v.verify(tok) is p1
    # Keyed by the whole token: a different signature is verified afresh, and fails.
    h, p, s = tok.split(".")
    forged = f"{h}.{p}.{s[:-6]}{'A' * 6 if s[-6:] != 'A' * 6 else 'B' * 6}"
    with pytest.raises(InvalidToken, match="bad signature"):
        await v.verify(forged)
    # Never past exp (+ leeway): the cache does not keep an expired token alive.
    clock.advance(66)
    with pytest.raises(InvalidToken, match="expired"):
        await v.verify(tok)


async def test_cache_bounded(standin, clock):
    v = verifier(standin, clock, token_cache_size=10)
    for _ in range(25):
        await v.verify(standin.mint(clock.t, RES))
    assert len(v._tokens) <= 10
    off = verifier(standin, clock, token_cache_size=0)
    await off.verify(standin.mint(clock.t, RES))
    assert len(off._tokens) == 0


async def test_unknown_kid_refetch_throttle(standin, clock):
    v = verifier(standin, clock)
    await v.verify(standin.mint(clock.t, RES))
    assert standin.fetches == 1
    stranger = Key()
    forged = standin.mint(clock.t, RES, key=stranger)
    for _ in range(50):  # a flood of unknown kids costs one fetch per 10 s, whatever the traffic
        with pytest.raises(InvalidToken, match="unknown signing key"):
            await v.verify(forged)
    assert standin.fetches == 1
    clock.advance(10)
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await v.verify(forged)
    assert standin.fetches == 2
    # A rotation: the new key is published; its tokens verify once the throttle allows.
    standin.keys.append(stranger)
    clock.advance(10)
    assert (await v.verify(forged)).subject == "user-1"
    assert standin.fetches == 3


async def test_concurrent_first_use_fetches_once(standin, clock):
    v = verifier(standin, clock)
    toks = [standin.mint(clock.t, RES) for _ in range(20)]
    ps = await asyncio.gather(*(v.verify(t) for t in toks))
    assert all(p.subject == "user-1" for p in ps)
    assert standin.fetches == 1


async def test_withdrawn_key_stops_cached_tokens(standin, clock):
    v = verifier(standin, clock, jwks_max_age=60)
    old = standin.keys[0]
    tok = standin.mint(clock.t, RES)
    await v.verify(tok)
    standin.keys = [Key()]
    clock.advance(61)  # the set is refetched when older than jwks_max_age
    with pytest.raises(InvalidToken, match="no longer published"):
        await v.verify(tok)
    assert old.kid not in v._keys.by_id


async def test_issuer_unreachable(standin, clock):
    standin.fail = True
    v = verifier(standin, clock)
    tok = standin.mint(clock.t, RES)
    with pytest.raises(Unavailable):
        await v.verify(tok)
    status, headers, body = v.error_answer(Unavailable("x"))
    assert status == 503 and ("retry-after", "5") in headers
    assert not any(k == "www-authenticate" for k, _ in headers)
    # Retried at most once a second while no key set was ever loaded.
    with pytest.raises(Unavailable):
        await v.verify(tok)
    assert standin.fetches == 1
    standin.fail = False
    clock.advance(1)
    assert (await v.verify(tok)).subject == "user-1"


async def test_keys_parsing_skips_what_cannot_be_used(standin, clock):
    from gatehouse_auth._jwks import parse_jwks

    good = Key()
    dup1, dup2 = Key(), Key()
    dup2.jwk["kid"] = dup1.kid
    priv = dict(good.jwk, kid="private", d="AAAA")
    enc = dict(good.jwk, kid="enc", use="enc")
    wrong_alg = dict(good.jwk, kid="wrongalg", alg="ES384")
    hmac = {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"}
    keys = parse_jwks(json.dumps({"keys": [good.jwk, dup1.jwk, dup2.jwk, priv, enc, wrong_alg, hmac, "x", {"kid": 3}]}).encode())
    assert list(keys) == [good.kid]
    with pytest.raises(ValueError):
        parse_jwks(b'{"nokeys": []}')


async def test_no_token_and_api_keys_off(standin, clock):
    v = verifier(standin, clock)
    with pytest.raises(NoToken):
        await v.verify("")
    with pytest.raises(NoToken):
        await v.authenticate({})
    with pytest.raises(InvalidToken, match="API keys are not accepted"):
        await v.authenticate({"Authorization": "Bearer ak_123"})
    with pytest.raises(InvalidToken, match="an API key is not an access token"):
        await v.verify("ak_123")
    with pytest.raises(InvalidToken, match="malformed Authorization"):
        await v.authenticate({"Authorization": "Bearer a b"})
    with pytest.raises(InvalidToken, match="too long"):
        await v.verify("x" * 9000)


def test_principal_and_scopes():
    p = Principal(subject="u", scopes=("a", "b"))
    assert p.has_scope("a") and p.has_scopes("a", "b") and not p.has_scopes("a", "c") and p.scope == "a b"
    require_scopes(p, "a")
    with pytest.raises(InsufficientScope) as e:
        require_scopes(p, "a", "c")
    assert e.value.scopes == ("a", "c")  # every scope the operation needs, not only the missing one
    with pytest.raises(InsufficientScope):
        require_scopes(None, "a")


def test_configuration_checks():
    for issuer, resource in [("", RES), ("http://a.example/", RES), ("a.example", RES), ("http://a.example", ""),
                             ("http://a.example", RES + "?x=1"), ("http://a.example", RES + "#f"),
                             ("http://a.example", "/mcp")]:
        with pytest.raises(ValueError):
            Verifier(issuer, resource)
    with pytest.raises(ValueError, match="introspection_key"):
        Verifier("http://a.example", RES, accept_api_keys=True)
    with pytest.raises(ValueError, match="leeway"):
        Verifier("http://a.example", RES, leeway=301)
    v = Verifier("http://a.example", "https://api.example.com/mcp", scopes_supported=["a b", "a"], resource_name="R")
    assert v.metadata_url == "https://api.example.com/.well-known/oauth-protected-resource/mcp"
    assert v.metadata_paths == ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource")
    assert v.metadata() == {"resource": "https://api.example.com/mcp", "authorization_servers": ["http://a.example"],
                            "scopes_supported": ["a", "b"], "bearer_methods_supported": ["header"], "resource_name": "R"}
    root = Verifier("http://a.example", "https://api.example.com")
    assert root.metadata_paths == ("/.well-known/oauth-protected-resource",)
    assert root.challenge() == 'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"'


def test_core_needs_neither_starlette_nor_mcp():
    import subprocess
    import sys

    code = ("import sys; sys.modules.update({m: None for m in ('starlette', 'fastapi', 'mcp', 'pydantic')}); "
            "import gatehouse_auth, gatehouse_auth.asgi; print(gatehouse_auth.__version__)")
    src = str(__import__("pathlib").Path(__file__).parents[1] / "src")
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": src}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0.1.0"

"""The kit against a real Gatehouse: its JWKS, OAuth tokens from the authorization-code flow,
its first-party tokens, its introspection, key rotation with the CLI. Each request goes through
the kit's ASGI middleware in process (httpx's ASGI transport), so what is asserted is the HTTP
answer a client would get."""

from __future__ import annotations

import json

import httpx
import pytest

from gatehouse_auth import InvalidToken, Principal, Unavailable, Verifier
from gatehouse_auth.asgi import GatehouseMiddleware, principal_from

pytestmark = pytest.mark.anyio
SCOPE = "mcp:tools"


async def echo(scope, receive, send):
    """The protected app: answers with the principal the middleware accepted."""
    p = principal_from(scope)
    body = json.dumps({"sub": p.subject, "client_id": p.client_id, "scope": p.scope, "sid": p.session_id,
                       "key_id": p.key_id, "type": p.token_type}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def client_for(v: Verifier, *scopes: str) -> httpx.AsyncClient:
    app = GatehouseMiddleware(echo, v, scopes=scopes or (SCOPE,), paths=["/mcp"])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def user(gh):
    u = gh.register("pykit")
    u["a"] = gh.oauth_tokens(u, gh.resource_a, SCOPE)
    u["notes"] = gh.oauth_tokens(u, gh.resource_a, "notes:read")
    u["b"] = gh.oauth_tokens(u, gh.resource_b, SCOPE)
    return u


def claims_of(token: str) -> dict:
    import base64

    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def test_challenge_matrix(gh, user, clock):
    md = gh.url + "/.well-known/oauth-protected-resource/mcp"
    plain = f'Bearer resource_metadata="{md}", scope="{SCOPE}"'
    invalid = plain + ', error="invalid_token"'
    good = user["a"]["access_token"]
    exp = claims_of(good)["exp"]

    v = Verifier(gh.url, gh.resource_a, now=clock)
    late = Verifier(gh.url, gh.resource_a, now=lambda: exp + 6)  # past exp and the 5 s leeway
    foreign_iss = Verifier("http://gatehouse.invalid", gh.resource_a, jwks_url=gh.url + "/.well-known/jwks.json")

    cases = [
        # (name, verifier, headers, status, WWW-Authenticate, error_description)
        ("no token", v, {}, 401, plain, "an access token is required"),
        ("token in the query string only", v, {}, 401, plain, "an access token is required"),
        ("another scheme", v, {"Authorization": "Basic dXNlcjpwYXNz"}, 401, plain, "an access token is required"),
        ("garbage", v, {"Authorization": "Bearer garbage"}, 401, invalid, "not a JWT"),
        ("garbage JWT", v, {"Authorization": "Bearer a.b.c"}, 401, invalid, "malformed token"),
        ("expired", late, {"Authorization": f"Bearer {good}"}, 401, invalid, "token expired"),
        ("wrong iss", foreign_iss, {"Authorization": f"Bearer {good}"}, 401, invalid, "token issued by another issuer"),
        ("wrong aud", v, {"Authorization": f"Bearer {user['b']['access_token']}"}, 401, invalid, "token is for another resource"),
        ("first-party token", v, {"Authorization": f"Bearer {user['access_token']}"}, 401, invalid, "token is for another resource"),
        ("tampered signature", v, {"Authorization": f"Bearer {good[:-4]}AAAA"}, 401, invalid, "bad signature"),
        ("missing scope", v, {"Authorization": f"Bearer {user['notes']['access_token']}"}, 403,
         f'Bearer resource_metadata="{md}", scope="{SCOPE}", error="insufficient_scope"',
         "the token lacks a scope this operation needs"),
    ]
    for name, ver, headers, status, challenge, reason in cases:
        async with client_for(ver) as c:
            path = f"/mcp?access_token={good}" if "query" in name else "/mcp"
            r = await c.post(path, headers=headers, content=f"access_token={good}")
        assert r.status_code == status, (name, r.status_code, r.text)
        assert r.headers["www-authenticate"] == challenge, name
        assert r.headers["cache-control"] == "no-store", name
        assert r.json()["error_description"] == reason, name
        assert good not in r.text, name

    async with client_for(v) as c:
        r = await c.post("/mcp", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 200, r.text
    me = r.json()
    assert me == {"sub": user["id"], "client_id": user["a"]["client_id"], "scope": SCOPE,
                  "sid": claims_of(good)["sid"], "key_id": "", "type": "access_token"}

    # Several audiences never come from Gatehouse: see test_standin.py. Metadata, both URLs.
    async with client_for(v) as c:
        for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
            r = await c.get(path)
            assert r.status_code == 200
            assert r.json() == {"resource": gh.resource_a, "authorization_servers": [gh.url],
                                "scopes_supported": [SCOPE], "bearer_methods_supported": ["header"]}


async def test_first_party_token_verifies_for_its_own_audience(gh, user):
    # Gatehouse's own token fails at an MCP resource for its audience only: with the issuer as
    # the resource, its signature, header and claims all pass.
    p = await Verifier(gh.url, gh.url).verify(user["access_token"])
    assert p.subject == user["id"] and p.email == user["email"] and p.session_id


async def test_session_revocation_with_and_without_the_check(gh):
    u = gh.register("revoked")
    tok = gh.oauth_tokens(u, gh.resource_a, SCOPE)["access_token"]
    intro_key = gh.api_key(u["email"], "tokens:introspect")
    plain = Verifier(gh.url, gh.resource_a)
    checked = Verifier(gh.url, gh.resource_a, check_sessions=True, introspection_key=intro_key, session_cache_ttl=0)
    assert (await plain.verify(tok)).subject == u["id"]
    assert (await checked.verify(tok)).subject == u["id"]

    gh.revoke_session(u, claims_of(tok)["sid"])

    # Without the check the token stands until it expires; with it, it is refused at once.
    assert (await plain.verify(tok)).subject == u["id"]
    with pytest.raises(InvalidToken, match="token or session revoked"):
        await checked.verify(tok)
    async with client_for(checked) as c:
        r = await c.post("/mcp", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_session_check_cache_and_a_wrong_introspection_key(gh, clock):
    u = gh.register("sesscache")
    tok = gh.oauth_tokens(u, gh.resource_a, SCOPE)["access_token"]
    intro_key = gh.api_key(u["email"], "tokens:introspect")
    calls = []
    hc = httpx.AsyncClient(event_hooks={"request": [_noter(calls)]})
    v = Verifier(gh.url, gh.resource_a, check_sessions=True, introspection_key=intro_key, now=clock, http_client=hc)
    await v.verify(tok)
    gh.revoke_session(u, claims_of(tok)["sid"])
    await v.verify(tok)  # the live answer is reused for session_cache_ttl (5 s)
    assert calls.count("introspect") == 1
    clock.advance(5)
    with pytest.raises(InvalidToken, match="revoked"):
        await v.verify(tok)
    assert calls.count("introspect") == 2
    await hc.aclose()

    bad = Verifier(gh.url, gh.resource_a, check_sessions=True, introspection_key="ak_not_a_real_key")
    with pytest.raises(Unavailable):
        await bad.verify(tok)
    async with client_for(bad) as c:
        r = await c.post("/mcp", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5" and "www-authenticate" not in r.headers


def _noter(calls: list):
    """An httpx event hook that notes each call the kit makes to Gatehouse."""

    async def note(request: httpx.Request) -> None:
        calls.append("introspect" if request.url.path.endswith("/introspect") else "jwks")

    return note


async def test_api_keys_on_and_off(gh, clock):
    u = gh.register("apikey")
    intro_key = gh.api_key(u["email"], "tokens:introspect")
    key = gh.api_key(u["email"], "profile:read")
    on = Verifier(gh.url, gh.resource_a, accept_api_keys=True, introspection_key=intro_key, now=clock)
    off = Verifier(gh.url, gh.resource_a)

    async with client_for(on, "profile:read") as c:
        for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
            r = await c.get("/mcp", headers=headers)
            assert r.status_code == 200, r.text
            me = r.json()
            assert me["sub"] == u["id"] and me["type"] == "api_key" and me["key_id"] and "profile:read" in me["scope"]
        r = await c.get("/mcp", headers={"X-API-Key": key[:-1] + ("x" if key[-1] != "x" else "y")})
        assert r.status_code == 401 and r.json()["error_description"] == "API key not active"
        r = await c.get("/mcp", headers={"X-API-Key": key, "Authorization": "Bearer x.y.z"})
        assert r.status_code == 400 and 'error="invalid_request"' in r.headers["www-authenticate"]
    async with client_for(on, SCOPE) as c:  # a key's scopes are Gatehouse's: no mcp:tools
        r = await c.get("/mcp", headers={"X-API-Key": key})
        assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]

    async with client_for(off, "profile:read") as c:
        r = await c.get("/mcp", headers={"X-API-Key": key})  # not read at all
        assert r.status_code == 401 and "error=" not in r.headers["www-authenticate"]
        r = await c.get("/mcp", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 401 and r.json()["error_description"] == "API keys are not accepted here"

    # A revoked key keeps working at most introspection_cache_ttl (30 s), then is refused.
    p = await on.verify_api_key(key)
    gh.revoke_api_key(u, p.key_id)
    assert (await on.verify_api_key(key)).subject == u["id"]
    clock.advance(30)
    with pytest.raises(InvalidToken, match="not active"):
        await on.verify_api_key(key)


async def test_key_rotation_without_restart(gh, user, clock):
    calls: list[str] = []
    hc = httpx.AsyncClient(event_hooks={"request": [_noter(calls)]})
    v = Verifier(gh.url, gh.resource_a, now=clock, http_client=hc)
    old = user["a"]["access_token"]
    assert (await v.verify(old)).subject == user["id"]
    assert calls == ["jwks"]

    out = gh.cli("signing-keys", "rotate")
    assert "new signing key" in out
    gh.restart()  # so that Gatehouse signs with the new key now (running servers do within 10 s)
    new = gh.oauth_tokens(user, gh.resource_a, SCOPE)["access_token"]
    assert json.loads(__import__("base64").urlsafe_b64decode(new.split(".")[0] + "==="))["kid"] != \
        json.loads(__import__("base64").urlsafe_b64decode(old.split(".")[0] + "==="))["kid"]

    # An unknown kid refetches at most once per 10 s: within them it is refused without a fetch.
    clock.advance(1)
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await v.verify(new)
    assert calls == ["jwks"]
    clock.advance(10)
    p = await v.verify(new)
    assert p.subject == user["id"] and calls == ["jwks", "jwks"]
    assert (await v.verify(old)).subject == user["id"]  # the old key is still published
    await hc.aclose()

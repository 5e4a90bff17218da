"""The framework glue with real Gatehouse tokens: the FastAPI dependency, Starlette routes and
middleware, and the MCP Python SDK adapter."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, request_response

from gatehouse_auth import Principal, Verifier
from gatehouse_auth.asgi import GatehouseMiddleware, RequireAuth
from gatehouse_auth.starlette import Require, add_exception_handler, metadata_routes

pytestmark = pytest.mark.anyio
SCOPE = "mcp:tools"


@pytest.fixture(scope="module")
def tokens(gh):
    u = gh.register("glue")
    u["a"] = gh.oauth_tokens(u, gh.resource_a, SCOPE)["access_token"]
    u["notes"] = gh.oauth_tokens(u, gh.resource_a, "notes:read")["access_token"]
    return u


def asgi_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


async def test_fastapi_dependency(gh, tokens):
    v = Verifier(gh.url, gh.resource_a)
    app = FastAPI()
    add_exception_handler(app)
    app.router.routes.extend(metadata_routes(v))

    @app.get("/reports")
    async def reports(p: Principal = Depends(Require(v, SCOPE))):
        return {"sub": p.subject, "scope": p.scope}

    @app.get("/notes")
    async def notes(p: Principal = Depends(Require(v, "notes:read", SCOPE))):
        return {"sub": p.subject}

    md = gh.url + "/.well-known/oauth-protected-resource/mcp"
    async with asgi_client(app) as c:
        r = await c.get("/reports")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == f'Bearer resource_metadata="{md}", scope="{SCOPE}"'
        assert r.json() == {"error": "unauthorized", "error_description": "an access token is required"}
        r = await c.get("/reports", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        assert r.headers["cache-control"] == "no-store"
        r = await c.get("/reports", headers={"Authorization": f"Bearer {tokens['a']}"})
        assert r.status_code == 200 and r.json() == {"sub": tokens["id"], "scope": SCOPE}
        r = await c.get("/notes", headers={"Authorization": f"Bearer {tokens['notes']}"})
        assert r.status_code == 403
        assert r.headers["www-authenticate"] == f'Bearer resource_metadata="{md}", scope="notes:read {SCOPE}", error="insufficient_scope"'
        r = await c.get("/.well-known/oauth-protected-resource/mcp")
        assert r.status_code == 200 and r.json()["scopes_supported"] == [SCOPE, "notes:read"]
        assert r.headers["access-control-allow-origin"] == "*"


async def test_starlette_middleware_and_route_guard(gh, tokens):
    v = Verifier(gh.url, gh.resource_a)

    async def me(request: Request):
        p = request.state.gatehouse_principal
        return JSONResponse({"sub": p.subject})

    async def open_page(request: Request):
        return JSONResponse({"open": True})

    app = Starlette(routes=[Route("/mcp", me, methods=["GET", "POST"]), Route("/open", open_page)])
    app.add_middleware(GatehouseMiddleware, verifier=v, scopes=[SCOPE], paths=["/mcp"])
    async with asgi_client(app) as c:
        assert (await c.get("/open")).status_code == 200
        assert (await c.get("/mcp")).status_code == 401
        r = await c.get("/mcp", headers={"Authorization": f"Bearer {tokens['a']}"})
        assert r.status_code == 200 and r.json() == {"sub": tokens["id"]}
        for path in v.metadata_paths:
            assert (await c.get(path)).json()["resource"] == gh.resource_a
            assert (await c.post(path)).status_code == 405

    guarded = Starlette(routes=[Route("/mcp", RequireAuth(request_response(me), v, SCOPE), methods=["GET"])])
    async with asgi_client(guarded) as c:
        r = await c.get("/mcp", headers={"Authorization": f"Bearer {tokens['notes']}"})
        assert r.status_code == 403
        r = await c.get("/mcp", headers={"Authorization": f"Bearer {tokens['a']}"})
        assert r.status_code == 200


async def test_mcp_token_verifier_adapter(gh, tokens):
    from mcp.server.auth.provider import TokenVerifier as SDKTokenVerifier

    from gatehouse_auth.mcp import GatehouseAccessToken, TokenVerifier, auth_settings, principal

    v = Verifier(gh.url, gh.resource_a)
    tv = TokenVerifier(v)
    _: SDKTokenVerifier = tv  # satisfies the protocol (checked statically)
    at = await tv.verify_token(tokens["a"])
    assert isinstance(at, GatehouseAccessToken)
    assert at.subject == tokens["id"] and at.scopes == [SCOPE] and at.resource == gh.resource_a
    assert at.claims["iss"] == gh.url and at.expires_at and at.client_id
    assert principal(at).subject == tokens["id"]
    assert await tv.verify_token("garbage") is None
    assert await tv.verify_token(gh.register("other")["access_token"]) is None  # first-party: another audience
    s = auth_settings(v, SCOPE)
    assert s.required_scopes == [SCOPE] and s.validate_token_resource is True
    assert str(s.issuer_url) == gh.url

"""Adapter for the official MCP Python SDK (``mcp`` 2.x, ``MCPServer``): a TokenVerifier
backed by the kit, the AuthSettings that go with it, and the guard that answers 401/403 with the
kit's challenges in front of the SDK's app. Needs ``mcp`` (``pip install gatehouse-auth[mcp]``).

::

    v = Verifier(issuer=ISSUER, resource="https://api.example.com/mcp")
    server = MCPServer("my-server", token_verifier=TokenVerifier(v), auth=auth_settings(v, "mcp:tools"))
    app = protect(server.streamable_http_app(), v, "mcp:tools")   # serve with uvicorn

    @server.tool()
    async def whoami() -> dict:
        p = principal()
        return {"sub": p.subject, "scope": p.scope}
"""

from __future__ import annotations

from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from pydantic import ConfigDict

from ._errors import AuthError
from ._principal import Principal
from ._verifier import Verifier
from .asgi import ASGIApp, GatehouseMiddleware


class GatehouseAccessToken(AccessToken):
    """The SDK's AccessToken (``subject`` = ``sub``, ``client_id``, ``scopes``, ``expires_at``,
    ``resource`` = the token's audience, ``claims``) plus the kit's :class:`Principal`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    principal: Principal


class TokenVerifier:
    """The SDK's ``mcp.server.auth.provider.TokenVerifier`` protocol, backed by a kit
    :class:`Verifier`: ``verify_token`` returns a :class:`GatehouseAccessToken` for a token the
    kit accepts (an API key too, when the verifier accepts them) and None otherwise. The SDK's
    own challenges lack ``scope`` and call a missing token invalid: put :func:`protect` in
    front so that clients get the kit's answers."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        v = self.verifier
        try:
            if token.startswith("ak_"):
                p = await v.verify_api_key(token)
            else:
                p = await v.verify(token)
        except AuthError:
            return None
        claims = dict(p.claims)
        claims.setdefault("iss", v.issuer)
        return GatehouseAccessToken(
            token=token,
            client_id=p.client_id or p.key_id or p.subject,
            scopes=list(p.scopes),
            expires_at=int(p.expires_at) if p.expires_at is not None else None,
            resource=v.resource,
            subject=p.subject,
            claims=claims,
            principal=p,
        )


def auth_settings(verifier: Verifier, *scopes: str) -> AuthSettings:
    """The SDK's AuthSettings for a resource server guarded by ``verifier``: Gatehouse as the
    issuer, the verifier's resource, the scopes every MCP request needs, and the token's
    resource checked (the kit checked ``aud`` already)."""
    verifier.add_scopes(*scopes)
    return AuthSettings(
        issuer_url=verifier.issuer,  # type: ignore[arg-type]
        resource_server_url=verifier.resource,  # type: ignore[arg-type]
        required_scopes=list(scopes) or None,
        validate_token_resource=True,
    )


def protect(app: ASGIApp, verifier: Verifier, *scopes: str, path: str = "/mcp") -> GatehouseMiddleware:
    """Wrap the SDK's Starlette app (``server.streamable_http_app()``): the kit serves the
    RFC 9728 metadata at the path-inserted and the root well-known URLs, and answers every
    request to ``path`` without a credential carrying ``scopes`` with its 401/403 challenges
    (``resource_metadata``, ``scope``, ``error``), before the SDK sees it."""
    return GatehouseMiddleware(app, verifier, scopes=scopes, paths=[path])


def principal(access_token: Any = None) -> Principal | None:
    """The kit's principal of the current MCP request (inside a tool), or of ``access_token``."""
    tok = access_token if access_token is not None else get_access_token()
    return tok.principal if isinstance(tok, GatehouseAccessToken) else None


__all__ = ["GatehouseAccessToken", "TokenVerifier", "auth_settings", "principal", "protect"]

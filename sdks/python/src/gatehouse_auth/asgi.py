"""Plain ASGI glue (no dependency): a middleware that serves the RFC 9728 metadata and guards
paths, and a wrapper that guards one ASGI app. Works under Starlette, FastAPI, Quart, Django
(ASGI) and any ASGI server."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Iterable, MutableMapping

from ._errors import AuthError
from ._principal import Principal, require_scopes
from ._verifier import Verifier

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Where the principal of an accepted request is kept: ``scope["state"][STATE_KEY]`` (so
#: Starlette's ``request.state.gatehouse_principal``) and ``scope[SCOPE_KEY]``.
STATE_KEY = "gatehouse_principal"
SCOPE_KEY = "gatehouse.principal"


def principal_from(scope_or_request: Any) -> Principal | None:
    """The principal the middleware accepted, from an ASGI scope or a Starlette request."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    p = scope.get(SCOPE_KEY)
    return p if isinstance(p, Principal) else None


async def _send_answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def guard(verifier: Verifier, scopes: tuple[str, ...], app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``app`` for this request only if its credential verifies and carries every one of
    ``scopes``; otherwise answer with the kit's 400/401/403/503."""
    try:
        p = await verifier.authenticate(scope.get("headers") or [])
        require_scopes(p, *scopes)
    except AuthError as err:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _send_answer(send, *verifier.error_answer(err, scopes))
        return
    scope[SCOPE_KEY] = p
    state = scope.get("state")
    if state is None:
        state = scope["state"] = {}
    state[STATE_KEY] = p
    await app(scope, receive, send)


class RequireAuth:
    """An ASGI app that runs ``app`` only for requests with a credential that verifies and
    carries every one of ``scopes`` (e.g. ``Route("/reports", RequireAuth(reports, v,
    "reports:read"))`` or ``Mount("/api", RequireAuth(api, v))``)."""

    def __init__(self, app: ASGIApp, verifier: Verifier, *scopes: str) -> None:
        self.app, self.verifier, self.scopes = app, verifier, scopes
        verifier.add_scopes(*scopes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await guard(self.verifier, self.scopes, self.app, scope, receive, send)


class GatehouseMiddleware:
    """ASGI middleware: serves the protected-resource metadata at the verifier's metadata paths
    (the path-inserted one and the root well-known one) and requires a credential with every
    one of ``scopes`` on ``paths`` (each an exact path, also matching below it: "/mcp" guards
    "/mcp" and "/mcp/..."), or on every other path when ``paths`` is None. With Starlette:
    ``app.add_middleware(GatehouseMiddleware, verifier=v, scopes=["mcp:tools"], paths=["/mcp"])``."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: Verifier,
        scopes: Iterable[str] = (),
        paths: Iterable[str] | None = None,
        serve_metadata: bool = True,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.scopes = tuple(scopes)
        self.paths = None if paths is None else tuple(p.rstrip("/") or "/" for p in paths)
        self.serve_metadata = serve_metadata
        verifier.add_scopes(*self.scopes)

    def _guarded(self, path: str) -> bool:
        if self.paths is None:
            return True
        return any(path == p or path.startswith(p + "/") or p == "/" for p in self.paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if self.serve_metadata and scope["type"] == "http" and path in self.verifier.metadata_paths:
            await _send_answer(send, *self.verifier.metadata_answer(scope.get("method", "GET")))
            return
        if not self._guarded(path):
            await self.app(scope, receive, send)
            return
        await guard(self.verifier, self.scopes, self.app, scope, receive, send)

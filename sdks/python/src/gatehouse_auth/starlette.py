"""Starlette and FastAPI glue: a dependency that yields the caller's principal, the metadata
routes, and an exception handler that answers with the kit's JSON body. Needs ``starlette``
(``pip install gatehouse-auth[starlette]`` or ``[fastapi]``)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._errors import AuthError
from ._principal import Principal, require_scopes
from ._verifier import Verifier
from .asgi import principal_from


class GatehouseHTTPException(HTTPException):
    """The refusal of a credential, as an HTTPException carrying the kit's status and headers
    (``WWW-Authenticate``, ``Cache-Control: no-store``…); ``body`` is the kit's JSON body,
    which :func:`add_exception_handler` sends instead of FastAPI's ``{"detail": ...}``."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, error: AuthError) -> None:
        super().__init__(status_code=status, detail=error.reason or "an access token is required",
                         headers={k: v for k, v in headers if k != "content-type"})
        self.body = body
        self.error = error


class Require:
    """A FastAPI dependency (or a plain helper for Starlette endpoints) that returns the
    caller's :class:`Principal` when the request's credential verifies and carries every one of
    ``scopes``, and raises :class:`GatehouseHTTPException` otherwise::

        require_reports = Require(v, "reports:read")

        @app.get("/reports")
        async def reports(p: Principal = Depends(require_reports)): ...

    A principal already accepted by :class:`~gatehouse_auth.asgi.GatehouseMiddleware` for the
    same request is reused (its scopes are still checked)."""

    def __init__(self, verifier: Verifier, *scopes: str) -> None:
        self.verifier = verifier
        self.scopes = scopes
        verifier.add_scopes(*scopes)

    async def __call__(self, request: Request) -> Principal:
        try:
            p = principal_from(request)
            if p is None:
                p = await self.verifier.authenticate(request.headers)
            require_scopes(p, *self.scopes)
            return p
        except AuthError as err:
            status, headers, body = self.verifier.error_answer(err, self.scopes)
            raise GatehouseHTTPException(status, headers, body, err) from None


async def _handle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatehouseHTTPException)
    headers = dict(exc.headers or {})
    return Response(exc.body, status_code=exc.status_code, headers=headers, media_type="application/json")


def add_exception_handler(app: Any) -> None:
    """Answer :class:`GatehouseHTTPException` with the kit's JSON body
    (``{"error", "error_description"}``) rather than the framework's ``{"detail": ...}``."""
    app.add_exception_handler(GatehouseHTTPException, _handle)


def metadata_routes(verifier: Verifier) -> list[Route]:
    """Starlette routes serving the protected-resource metadata at every one of the verifier's
    metadata paths (``app.router.routes.extend(metadata_routes(v))`` or ``Starlette(routes=[
    *metadata_routes(v), ...])``)."""

    async def endpoint(request: Request) -> Response:
        status, headers, body = verifier.metadata_answer(request.method)
        return Response(body, status_code=status, headers=dict(headers))

    return [Route(p, endpoint, methods=["GET", "HEAD", "OPTIONS"]) for p in verifier.metadata_paths]


__all__ = ["GatehouseHTTPException", "Require", "add_exception_handler", "metadata_routes", "principal_from"]

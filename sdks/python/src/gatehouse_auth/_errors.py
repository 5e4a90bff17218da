"""The ways a credential can be refused, each with its HTTP answer."""

from __future__ import annotations

from typing import Sequence


class AuthError(Exception):
    """A credential was refused, or could be neither accepted nor refused.

    ``reason`` is a short fixed description that is safe to show to the client (it never
    contains the credential); ``scopes`` are the scopes the operation needs (for
    :class:`InsufficientScope`). ``status`` and ``code`` are the HTTP status and the RFC 6750
    error code of the answer (``code`` is ``None`` when no credential was presented).
    """

    status: int = 401
    code: str | None = "invalid_token"

    def __init__(self, reason: str = "", scopes: Sequence[str] = ()) -> None:
        self.reason = reason
        self.scopes = tuple(scopes)
        super().__init__(reason or self.__class__.__name__)


class NoToken(AuthError):
    """The request carries no credential this server reads: 401 without an error code
    (RFC 6750 §3.1). Tokens in the query string or the body are never read."""

    status = 401
    code = None


class InvalidToken(AuthError):
    """A credential was presented but is malformed, expired, not signed by the issuer,
    issued for another resource, revoked…: 401 ``error="invalid_token"``."""

    status = 401
    code = "invalid_token"


class InvalidRequest(AuthError):
    """The request carries credentials in more than one way: 400 ``error="invalid_request"``."""

    status = 400
    code = "invalid_request"


class InsufficientScope(AuthError):
    """The credential is good but lacks a scope the operation needs: 403
    ``error="insufficient_scope"``, naming every scope the operation needs."""

    status = 403
    code = "insufficient_scope"


class Unavailable(AuthError):
    """Gatehouse's keys or its introspection endpoint could not be reached: 503 with
    ``Retry-After``. Never a silent accept."""

    status = 503
    code = "temporarily_unavailable"

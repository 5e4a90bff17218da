"""Who a verified credential speaks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from ._errors import InsufficientScope

#: A JWT access token, verified locally.
TYPE_ACCESS_TOKEN = "access_token"
#: A Gatehouse API key, checked through introspection.
TYPE_API_KEY = "api_key"


@dataclass(frozen=True)
class Principal:
    """The caller behind a verified credential. Principals of cached tokens are shared
    between requests, hence frozen."""

    #: The ``sub`` claim: the user's id (or the client's, for client_credentials).
    subject: str
    #: The OAuth client the token was issued to (``client_id``); empty for API keys.
    client_id: str = ""
    #: The granted scopes, from the space-separated ``scope`` claim.
    scopes: tuple[str, ...] = ()
    #: The Gatehouse session (``sid``); empty for API keys.
    session_id: str = ""
    #: The user's email when the credential carries one.
    email: str = ""
    #: The API key's id for API-key principals; empty for access tokens.
    key_id: str = ""
    #: ``"access_token"`` or ``"api_key"``.
    token_type: str = TYPE_ACCESS_TOKEN
    #: When the credential stops being valid (seconds since the epoch); ``None`` for an API
    #: key without expiry.
    expires_at: float | None = None
    #: Every claim of the token (for an API key: the introspection answer), read-only.
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def has_scopes(self, *scopes: str) -> bool:
        return all(s in self.scopes for s in scopes)

    @property
    def scope(self) -> str:
        """The granted scopes as the space-separated string of the ``scope`` claim."""
        return " ".join(self.scopes)


def require_scopes(principal: Principal | None, *scopes: str) -> None:
    """Raise :class:`InsufficientScope` naming every one of ``scopes`` (RFC 6750 §3.1 wants the
    whole set the operation needs, not only the missing ones) unless ``principal`` has them all."""
    if principal is None or not principal.has_scopes(*scopes):
        raise InsufficientScope("the token lacks a scope this operation needs", scopes)

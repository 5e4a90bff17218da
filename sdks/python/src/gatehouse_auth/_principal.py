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


#: The deepest actor chain Gatehouse signs.
MAX_ACTOR_DEPTH = 3


@dataclass(frozen=True)
class Actor:
    """One link of an actor chain (``act``, RFC 8693 §4.1): who acts (``subject``: an agent's
    client_id, or the admin of an impersonation), and who acted for the subject before it."""

    subject: str
    act: Actor | None = None

    @property
    def depth(self) -> int:
        """The number of actors in the chain."""
        n, a = 0, self
        while a is not None:
            n, a = n + 1, a.act
        return n


@dataclass(frozen=True)
class Org:
    """The organization a principal acts in (``org_id``, ``org_role``, ``org_permissions``)."""

    id: str
    #: ``org_role``: owner, admin, member or a custom role; empty when the token carries none.
    role: str = ""
    #: ``org_permissions``
    permissions: tuple[str, ...] = ()


def read_actor(value: Any) -> Actor | None:
    """The ``act`` claim read strictly: ``None`` when absent; :class:`ValueError` when malformed
    or deeper than Gatehouse signs."""
    if value is None:
        return None
    links: list[str] = []
    a = value
    while a is not None:
        if len(links) >= MAX_ACTOR_DEPTH or not isinstance(a, dict) or not isinstance(a.get("sub"), str) or not a["sub"]:
            raise ValueError("malformed act")
        links.append(a["sub"])
        a = a.get("act")
    chain: Actor | None = None
    for s in reversed(links):
        chain = Actor(subject=s, act=chain)
    return chain


def read_org(claims: Mapping[str, Any]) -> Org | None:
    """The organization claims read strictly: ``None`` when the token names none;
    :class:`ValueError` when one has the wrong JSON type."""
    oid, role, perms = claims.get("org_id"), claims.get("org_role"), claims.get("org_permissions")
    if (oid is not None and not isinstance(oid, str)) or (role is not None and not isinstance(role, str)):
        raise ValueError("malformed organization claims")
    if perms is not None and (not isinstance(perms, list) or not all(isinstance(p, str) for p in perms)):
        raise ValueError("malformed organization claims")
    if not oid:
        return None
    return Org(id=oid, role=role or "", permissions=tuple(perms or ()))


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
    #: The actor chain of a delegated token (``act``): the agent acting for the user named by
    #: ``subject`` (or the Gatehouse admin impersonating them). ``None`` when nobody acts for
    #: the subject, and always for API keys.
    act: Actor | None = None
    #: The organization the user acts in; ``None`` when the token names none. Its permissions
    #: are the organization's, separate from ``scopes``.
    org: Org | None = None
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
    def delegated(self) -> bool:
        """Whether an agent acts for the subject (the token carries ``act``)."""
        return self.act is not None

    @property
    def org_id(self) -> str:
        return self.org.id if self.org else ""

    @property
    def org_role(self) -> str:
        return self.org.role if self.org else ""

    @property
    def org_permissions(self) -> tuple[str, ...]:
        return self.org.permissions if self.org else ()

    def has(self, permission: str) -> bool:
        """Whether the principal holds ``permission`` in its active organization
        (``org_permissions``, exact match). Scopes do not count: a token's scopes say what it may
        do at all, the organization's permissions what the user may do in that organization."""
        return bool(permission) and self.org is not None and permission in self.org.permissions

    has_permission = has

    def has_org_role(self, role: str) -> bool:
        """Whether the principal has ``role`` in its active organization."""
        return bool(role) and self.org is not None and self.org.role == role

    @property
    def scope(self) -> str:
        """The granted scopes as the space-separated string of the ``scope`` claim."""
        return " ".join(self.scopes)


def require_scopes(principal: Principal | None, *scopes: str) -> None:
    """Raise :class:`InsufficientScope` naming every one of ``scopes`` (RFC 6750 §3.1 wants the
    whole set the operation needs, not only the missing ones) unless ``principal`` has them all."""
    if principal is None or not principal.has_scopes(*scopes):
        raise InsufficientScope("the token lacks a scope this operation needs", scopes)

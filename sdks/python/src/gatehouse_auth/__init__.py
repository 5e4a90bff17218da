"""Gatehouse resource-server kit: accept Gatehouse access tokens in any Python API or MCP
server, with the checks a resource server must make and the answers MCP clients need to find
where to sign in.

Core: :class:`Verifier`, :class:`Principal`, :func:`require_scopes`, the errors, and the plain
ASGI glue in :mod:`gatehouse_auth.asgi`. Optional: :mod:`gatehouse_auth.starlette` (Starlette,
FastAPI) and :mod:`gatehouse_auth.mcp` (the official MCP Python SDK).
"""

from ._errors import AuthError, InsufficientScope, InvalidRequest, InvalidToken, NoToken, Unavailable
from ._principal import MAX_ACTOR_DEPTH, TYPE_ACCESS_TOKEN, TYPE_API_KEY, Actor, Org, Principal, require_scopes
from ._verifier import (
    API_KEY_PREFIX,
    DEFAULT_INTROSPECTION_CACHE_TTL,
    DEFAULT_JWKS_MAX_AGE,
    DEFAULT_LEEWAY,
    DEFAULT_SESSION_CACHE_TTL,
    DEFAULT_TOKEN_CACHE_SIZE,
    MAX_LEEWAY,
    UNKNOWN_KEY_REFETCH_INTERVAL,
    Verifier,
)

__version__ = "0.1.0"

__all__ = [
    "API_KEY_PREFIX",
    "Actor",
    "AuthError",
    "DEFAULT_INTROSPECTION_CACHE_TTL",
    "DEFAULT_JWKS_MAX_AGE",
    "DEFAULT_LEEWAY",
    "DEFAULT_SESSION_CACHE_TTL",
    "DEFAULT_TOKEN_CACHE_SIZE",
    "InsufficientScope",
    "InvalidRequest",
    "InvalidToken",
    "MAX_ACTOR_DEPTH",
    "MAX_LEEWAY",
    "NoToken",
    "Org",
    "Principal",
    "TYPE_ACCESS_TOKEN",
    "TYPE_API_KEY",
    "UNKNOWN_KEY_REFETCH_INTERVAL",
    "Unavailable",
    "Verifier",
    "require_scopes",
]

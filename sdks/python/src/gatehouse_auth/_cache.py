"""The verified-token cache and the introspection-answer caches, keyed by the SHA-256 of the
whole credential: they never hold a credential, and two credentials that differ anywhere
(signature included) never share an entry."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._errors import AuthError
from ._principal import Principal


def key_of(credential: str) -> bytes:
    return hashlib.sha256(credential.encode()).digest()


@dataclass(frozen=True)
class TokenEntry:
    principal: Principal
    exp: float  # the token's exp: the entry is dead from then on
    kid: str  # the signing key, so that withdrawing a key drops its tokens


@dataclass(frozen=True)
class ResultEntry:
    principal: Principal | None  # None: refused
    error: AuthError | None
    until: float


E = TypeVar("E", TokenEntry, ResultEntry)


class BoundedCache(Generic[E]):
    """A dict bounded to ``size`` entries, each alive until its deadline (``exp`` or
    ``until``). Reads take no lock; writes do."""

    def __init__(self, size: int) -> None:
        self._m: dict[bytes, E] = {}
        self._max = size
        self._lock = threading.Lock()

    @staticmethod
    def _deadline(e: E) -> float:
        return e.exp if isinstance(e, TokenEntry) else e.until

    def get(self, k: bytes, now: float) -> E | None:
        e = self._m.get(k)
        if e is None or not now < self._deadline(e):
            return None
        return e

    def put(self, k: bytes, e: E, now: float) -> None:
        if self._max <= 0 or not now < self._deadline(e):
            return
        with self._lock:
            if len(self._m) >= self._max:
                self._evict(now)
            self._m[k] = e

    def _evict(self, now: float) -> None:
        # Expired entries first, then the oldest down to 90% of the bound, so that a flood of
        # distinct tokens costs one sweep per tenth of the cache rather than one per token.
        m = {k: e for k, e in self._m.items() if now < self._deadline(e)}
        target = self._max - self._max // 10 - 1
        if len(m) > target:
            m = dict(list(m.items())[len(m) - target :]) if target > 0 else {}
        self._m = m

    def drop_kids(self, kids: set[str]) -> None:
        with self._lock:
            self._m = {k: e for k, e in self._m.items() if not (isinstance(e, TokenEntry) and e.kid in kids)}

    def __len__(self) -> int:
        return len(self._m)

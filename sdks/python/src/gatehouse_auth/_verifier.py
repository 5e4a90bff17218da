"""The verifier: Gatehouse access tokens checked locally against the JWKS, API keys and
sessions checked through Gatehouse's introspection, and the HTTP answers of RFC 6750 and
RFC 9728."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from ._cache import BoundedCache, ResultEntry, TokenEntry, key_of
from ._errors import AuthError, InsufficientScope, InvalidRequest, InvalidToken, NoToken, Unavailable
from ._jwks import PublicKey, parse_jwks
from ._principal import TYPE_ACCESS_TOKEN, TYPE_API_KEY, Principal, read_actor, read_org, require_scopes

DEFAULT_LEEWAY = 5.0
MAX_LEEWAY = 300.0
DEFAULT_INTROSPECTION_CACHE_TTL = 30.0
DEFAULT_SESSION_CACHE_TTL = 5.0
DEFAULT_TOKEN_CACHE_SIZE = 10_000
DEFAULT_JWKS_MAX_AGE = 3600.0
#: The least time between two fetches of the JWKS caused by tokens naming an unknown kid.
UNKNOWN_KEY_REFETCH_INTERVAL = 10.0
#: The least time between two attempts to load the JWKS while none was ever loaded.
NO_KEYS_RETRY_INTERVAL = 1.0
#: Every Gatehouse API key starts with this.
API_KEY_PREFIX = "ak_"
METADATA_PREFIX = "/.well-known/oauth-protected-resource"

_MAX_TOKEN_BYTES = 8 << 10
_MAX_JWKS_BYTES = 1 << 20
_MAX_INTROSPECTION_BYTES = 64 << 10
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_STRING_CLAIMS = ("iss", "sub", "sid", "client_id", "scope", "email")

log = logging.getLogger("gatehouse_auth")


@dataclass(frozen=True)
class _KeySet:
    by_id: Mapping[str, PublicKey]
    fetched_at: float


def _b64(part: str) -> bytes:
    if not _B64URL.match(part):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _numeric_date(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    if math.isnan(f) or math.isinf(f) or f < 0 or f > 1e11:
        return None
    return f


def _is_access_token_type(typ: Any) -> bool:
    # Media types are case-insensitive and "application/" may be left out (RFC 7515 §4.1.9,
    # RFC 8725 §3.11, RFC 9068 §2.1).
    return isinstance(typ, str) and typ.lower() in ("at+jwt", "application/at+jwt")


def _quote_safe(s: str) -> str:
    # Drop what cannot stand in an RFC 9110 quoted-string without escaping.
    return "".join(c for c in s if c not in '"\\' and 0x20 <= ord(c) != 0x7F)


def _ttl(v: float | None, default: float) -> float:
    if v is None:
        return default
    if v < 0:
        raise ValueError("a cache TTL cannot be negative (0 means no cache)")
    return float(v)


def _check_http_url(field: str, s: str) -> None:
    u = urlsplit(s)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise ValueError(f"gatehouse_auth: {field} {s!r} is not an absolute http(s) URL")


def header_values(headers: Any, name: str) -> list[str]:
    """All values of header ``name`` in ``headers``: an ASGI header list (``[(b"name",
    b"value")]``), an object with ``getlist`` or ``get_all`` (Starlette, email.message), or a
    mapping of single values."""
    lname = name.lower()
    if isinstance(headers, (list, tuple)):
        out = []
        bname = lname.encode()
        for k, v in headers:
            if isinstance(k, bytes):
                if k.lower() == bname:
                    out.append(v.decode("latin-1"))
            elif k.lower() == lname:
                out.append(v)
        return out
    for attr in ("getlist", "get_all"):
        f = getattr(headers, attr, None)
        if f is not None:
            return list(f(name) or [])
    for k, v in headers.items():
        if k.lower() == lname:
            return [v]
    return []


class Verifier:
    """Verifies Gatehouse credentials for one resource. Safe to share between requests, tasks
    and threads; do no I/O until the first verification (the JWKS is fetched then).

    Only ``issuer`` and ``resource`` are required. ``None`` in any other argument means its
    default; a TTL or cache size of 0 means no cache, a leeway of 0 none.
    """

    def __init__(
        self,
        issuer: str,
        resource: str,
        *,
        jwks_url: str | None = None,
        jwks_max_age: float | None = None,
        http_client: httpx.AsyncClient | None = None,
        leeway: float | None = None,
        allow_multiple_audiences: bool = False,
        scopes_supported: Iterable[str] = (),
        resource_name: str | None = None,
        accept_api_keys: bool = False,
        check_sessions: bool = False,
        introspection_key: str | None = None,
        introspection_url: str | None = None,
        introspection_cache_ttl: float | None = None,
        session_cache_ttl: float | None = None,
        token_cache_size: int | None = None,
        now: Callable[[], float] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if not issuer:
            raise ValueError("gatehouse_auth: issuer is required")
        _check_http_url("issuer", issuer)
        if issuer.endswith("/"):
            # Issuers are compared as strings (RFC 8414 §3.3): trimming would hide a mismatch
            # that then refuses every token, so say so now.
            raise ValueError(
                f"gatehouse_auth: issuer {issuer!r} must not end with a slash "
                "(Gatehouse's issuer is its public URL without one)"
            )
        if not resource:
            raise ValueError("gatehouse_auth: resource is required")
        _check_http_url("resource", resource)
        res = urlsplit(resource)
        if "#" in resource:
            raise ValueError(f"gatehouse_auth: resource {resource!r} must not have a fragment (RFC 8707 §2)")
        if "?" in resource:
            raise ValueError(f"gatehouse_auth: resource {resource!r} must not have a query")
        if any(c in res.path for c in "{} \t"):
            raise ValueError(f"gatehouse_auth: resource {resource!r} has characters a path cannot be served at")

        self.issuer = issuer
        self.resource = resource
        self.jwks_url = jwks_url or issuer + "/.well-known/jwks.json"
        _check_http_url("jwks_url", self.jwks_url)
        self.introspection_url = introspection_url or issuer + "/api/v1/auth/introspect"
        _check_http_url("introspection_url", self.introspection_url)
        self.leeway = DEFAULT_LEEWAY if leeway is None else float(leeway)
        if not 0 <= self.leeway <= MAX_LEEWAY:
            raise ValueError(f"gatehouse_auth: leeway {leeway} is not within 0..{MAX_LEEWAY:.0f} seconds")
        self.jwks_max_age = DEFAULT_JWKS_MAX_AGE if not jwks_max_age else float(jwks_max_age)
        self.allow_multiple_audiences = allow_multiple_audiences
        self.accept_api_keys = accept_api_keys
        self.check_sessions = check_sessions
        if (accept_api_keys or check_sessions) and not introspection_key:
            raise ValueError(
                "gatehouse_auth: accept_api_keys and check_sessions need introspection_key "
                "(an API key with scope tokens:introspect)"
            )
        self._intro_key = introspection_key or ""
        self._intro_ttl = _ttl(introspection_cache_ttl, DEFAULT_INTROSPECTION_CACHE_TTL)
        self._sess_ttl = _ttl(session_cache_ttl, DEFAULT_SESSION_CACHE_TTL)
        self._client = http_client
        self._now = now or time.time
        self._log = logger or log
        self.resource_name = resource_name

        size = DEFAULT_TOKEN_CACHE_SIZE if token_cache_size is None else token_cache_size
        self._tokens: BoundedCache[TokenEntry] = BoundedCache(size)
        self._intro: BoundedCache[ResultEntry] = BoundedCache(DEFAULT_TOKEN_CACHE_SIZE)
        self._sess: BoundedCache[ResultEntry] = BoundedCache(DEFAULT_TOKEN_CACHE_SIZE)

        self._keys: _KeySet | None = None
        self._last_fetch: float | None = None
        self._inflight: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None

        # RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
        path = res.path
        self.metadata_paths: tuple[str, ...] = (
            (METADATA_PREFIX + path, METADATA_PREFIX) if path.rstrip("/") else (METADATA_PREFIX,)
        )
        self.metadata_url = f"{res.scheme}://{res.netloc}{self.metadata_paths[0]}"
        self._scopes_lock = threading.Lock()
        self._scopes: list[str] = []
        self.add_scopes(*scopes_supported)

    # ---- access tokens -------------------------------------------------------------------

    async def verify(self, token: str) -> Principal:
        """Check an access token (the JWT alone, without "Bearer ") and return its principal.
        Scopes are not checked here (see :func:`require_scopes`). With ``check_sessions`` it
        also asks Gatehouse whether the token's session is still live."""
        if not token:
            raise NoToken()
        if len(token) > _MAX_TOKEN_BYTES:
            raise InvalidToken("token too long")
        if token.startswith(API_KEY_PREFIX):
            raise InvalidToken("an API key is not an access token")
        k = key_of(token)
        now = self._now()
        e = self._tokens.get(k, now)
        if e is not None:
            p = e.principal
            ks = self._keys
            if ks is None or not now - ks.fetched_at < self.jwks_max_age:
                # The key set is due for a refresh: a cached token of a key no longer
                # published must be refused like a new one.
                await self._key(e.kid)
        else:
            p, kid = await self._verify_jwt(token, now)
            self._tokens.put(k, TokenEntry(p, p.expires_at or 0.0, kid), now)
        if self.check_sessions:
            await self._check_session(k, token, p, now)
        return p

    async def _verify_jwt(self, token: str, now: float) -> tuple[Principal, str]:
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("not a JWT")
        try:
            header = json.loads(_b64(parts[0]))
            payload_bytes = _b64(parts[1])
            sig = _b64(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidToken("malformed token") from None
        if not isinstance(header, dict):
            raise InvalidToken("malformed token")
        if "crit" in header:
            raise InvalidToken("token header has critical extensions this kit does not know")
        if not _is_access_token_type(header.get("typ")):
            raise InvalidToken('token type is not "at+jwt"')
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken('token header has no "kid"')
        alg = header.get("alg")
        key = await self._key(kid)
        # The algorithm is the key's, never the token's choice.
        if alg != key.alg:
            raise InvalidToken("token algorithm does not match its key")
        try:
            ok = key.verifier.verify((parts[0] + "." + parts[1]).encode(), key.key, sig)
        except Exception:
            ok = False
        if not ok:
            raise InvalidToken("bad signature")

        try:
            claims = json.loads(payload_bytes)
        except (ValueError, UnicodeDecodeError):
            raise InvalidToken("malformed claims") from None
        if not isinstance(claims, dict) or any(
            c in claims and not isinstance(claims[c], str) for c in _STRING_CLAIMS
        ):
            raise InvalidToken("malformed claims")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("token issued by another issuer")
        self._check_audience(claims.get("aud"))
        sub = claims.get("sub")
        if not sub:
            raise InvalidToken('token has no "sub"')
        exp = _numeric_date(claims.get("exp"))
        if exp is None:
            raise InvalidToken('token has no valid "exp"')
        if not now < exp + self.leeway:
            raise InvalidToken("token expired")
        if "nbf" in claims:
            nbf = _numeric_date(claims["nbf"])
            if nbf is None or now + self.leeway < nbf:
                raise InvalidToken("token not valid yet")
        iat = _numeric_date(claims.get("iat"))
        if iat is None:
            raise InvalidToken('token has no valid "iat"')
        if now + self.leeway < iat:
            raise InvalidToken("token issued in the future")
        try:
            act = read_actor(claims.get("act"))
        except ValueError:
            raise InvalidToken('token has a malformed "act"') from None
        try:
            org = read_org(claims)
        except ValueError:
            raise InvalidToken("token has malformed organization claims") from None
        return (
            Principal(
                subject=sub,
                client_id=claims.get("client_id", ""),
                scopes=tuple(claims.get("scope", "").split()),
                session_id=claims.get("sid", ""),
                email=claims.get("email", ""),
                act=act,
                org=org,
                token_type=TYPE_ACCESS_TOKEN,
                expires_at=exp,
                claims=MappingProxyType(claims),
            ),
            kid,
        )

    def _check_audience(self, aud: Any) -> None:
        # aud must equal the resource: a string, or an array of exactly one element; several
        # only with allow_multiple_audiences. Never a prefix, suffix or case-insensitive match.
        if aud is None:
            raise InvalidToken('token has no "aud"')
        if isinstance(aud, str):
            auds = [aud]
        elif isinstance(aud, list) and all(isinstance(a, str) for a in aud):
            auds = aud
        else:
            raise InvalidToken('malformed "aud"')
        if not auds:
            raise InvalidToken('token has no "aud"')
        if len(auds) > 1 and not self.allow_multiple_audiences:
            raise InvalidToken("token is for several audiences")
        if self.resource not in auds:
            raise InvalidToken("token is for another resource")

    # ---- the JWKS ------------------------------------------------------------------------

    async def _key(self, kid: str) -> PublicKey:
        """The public key named kid, fetching the JWKS when none is cached yet, when the kid is
        unknown (at most once per UNKNOWN_KEY_REFETCH_INTERVAL), or when the set is older than
        jwks_max_age."""
        now = self._now()
        ks = self._keys
        if ks is not None:
            k = ks.by_id.get(kid)
            if k is not None and now - ks.fetched_at < self.jwks_max_age:
                return k
            if k is not None:
                # Stale but usable: refresh, and carry on with the old set if that fails.
                if self._keys is ks:
                    self._last_fetch = now
                    try:
                        await self._fetch_shared(now)
                    except Exception as err:
                        self._log.error("gatehouse_auth: refreshing the JWKS failed; keeping the cached keys (%s): %s", self.jwks_url, err)
                cur = self._keys
                if cur is not None and cur is not ks:
                    k2 = cur.by_id.get(kid)
                    if k2 is None:
                        raise InvalidToken("the token's signing key is no longer published")
                    return k2
                return k

        # Another request may be fetching right now: wait for it rather than refuse.
        inflight = self._inflight
        if inflight is not None and not inflight[1].done() and inflight[0] is asyncio.get_running_loop():
            try:
                await asyncio.shield(inflight[1])
            except Exception:
                pass
            if self._keys is not None and kid in self._keys.by_id:
                return self._keys.by_id[kid]
        ks = self._keys
        interval = UNKNOWN_KEY_REFETCH_INTERVAL if ks is not None else NO_KEYS_RETRY_INTERVAL
        last = self._last_fetch
        if last is not None and 0 <= now - last < interval:
            if ks is None:
                raise Unavailable("the issuer's keys could not be loaded")
            raise InvalidToken("unknown signing key")
        self._last_fetch = now
        try:
            await self._fetch_shared(now)
        except Exception as err:
            self._log.error("gatehouse_auth: fetching the JWKS failed (%s): %s", self.jwks_url, err)
            if self._keys is None:
                raise Unavailable("the issuer's keys could not be loaded") from None
            raise InvalidToken("unknown signing key") from None
        k = self._keys.by_id.get(kid) if self._keys else None
        if k is None:
            raise InvalidToken("unknown signing key")
        return k

    async def _fetch_shared(self, now: float) -> None:
        # One fetch at a time per event loop; a caller that is cancelled does not cancel it.
        loop = asyncio.get_running_loop()
        inflight = self._inflight
        if inflight is not None and inflight[0] is loop and not inflight[1].done():
            await asyncio.shield(inflight[1])
            return
        task = loop.create_task(self._fetch_keys(now))
        self._inflight = (loop, task)
        await asyncio.shield(task)

    async def _fetch_keys(self, now: float) -> None:
        async with self._http() as client:
            resp = await client.get(self.jwks_url, headers={"Accept": "application/json"})
        if resp.status_code != 200:
            raise RuntimeError(f"GET {self.jwks_url}: status {resp.status_code}")
        if len(resp.content) > _MAX_JWKS_BYTES:
            raise RuntimeError("JWKS document too large")
        by_id = parse_jwks(resp.content)
        old = self._keys
        self._keys = _KeySet(MappingProxyType(by_id), now)
        if old is not None:
            # Tokens verified with a key that is no longer published must not outlive it here.
            gone = set(old.by_id) - set(by_id)
            if gone:
                self._tokens.drop_kids(gone)

    def _http(self) -> Any:
        if self._client is not None:
            return _Borrowed(self._client)
        return httpx.AsyncClient(timeout=10.0)

    # ---- introspection -------------------------------------------------------------------

    async def verify_api_key(self, key: str) -> Principal:
        """Check a Gatehouse API key (``ak_...``) through introspection; needs
        ``accept_api_keys``. Answers, good and bad, are cached for introspection_cache_ttl and
        never past the key's expiry."""
        if not self.accept_api_keys:
            raise InvalidToken("API keys are not accepted here")
        if not key.startswith(API_KEY_PREFIX) or len(key) > _MAX_TOKEN_BYTES:
            raise InvalidToken("not an API key")
        k = key_of(key)
        now = self._now()
        e = self._intro.get(k, now)
        if e is not None:
            if e.error is not None:
                raise e.error
            assert e.principal is not None
            return e.principal
        answer = await self._introspect(key)
        until = now + self._intro_ttl
        exp = _numeric_date(answer.get("exp"))
        err: AuthError | None = None
        p: Principal | None = None
        ttype = answer.get("token_type")
        sub = answer.get("sub")
        if answer.get("active") is not True:
            err = InvalidToken("API key not active")
        elif not isinstance(sub, str) or not sub or (ttype not in (None, "", TYPE_API_KEY)):
            err = InvalidToken("not an API key")
        elif exp is not None and not now < exp:
            err = InvalidToken("API key expired")
        else:
            scope = answer.get("scope")
            p = Principal(
                subject=sub,
                scopes=tuple(scope.split()) if isinstance(scope, str) else (),
                email=answer.get("email") if isinstance(answer.get("email"), str) else "",
                key_id=answer.get("key_id") if isinstance(answer.get("key_id"), str) else "",
                token_type=TYPE_API_KEY,
                expires_at=exp,
                claims=MappingProxyType(answer),
            )
            if exp is not None:
                until = min(until, exp)
        self._intro.put(k, ResultEntry(p, err, until), now)
        if err is not None:
            raise err
        assert p is not None
        return p

    async def _check_session(self, k: bytes, token: str, p: Principal, now: float) -> None:
        # A live answer is reused for session_cache_ttl; a dead one until the token expires (a
        # revoked session never comes back).
        e = self._sess.get(k, now)
        if e is not None:
            if e.error is not None:
                raise e.error
            return
        answer = await self._introspect(token)
        exp = p.expires_at or now
        until = now + self._sess_ttl
        err: AuthError | None = None
        sid = answer.get("sid")
        if answer.get("active") is not True:
            err, until = InvalidToken("token or session revoked"), exp
        elif answer.get("sub") != p.subject or (sid and p.session_id and sid != p.session_id):
            err, until = InvalidToken("introspection disagrees with the token"), exp
        self._sess.put(k, ResultEntry(p if err is None else None, err, min(until, exp)), now)
        if err is not None:
            raise err

    async def _introspect(self, credential: str) -> dict[str, Any]:
        try:
            async with self._http() as client:
                resp = await client.post(
                    self.introspection_url,
                    json={"token": credential},
                    headers={"Accept": "application/json", "X-API-Key": self._intro_key},
                )
        except httpx.HTTPError as err:
            self._log.error("gatehouse_auth: introspection failed (%s): %s", self.introspection_url, type(err).__name__)
            raise Unavailable("introspection unreachable") from None
        if resp.status_code != 200:
            # 401/403 here means this server's own key is wrong or lacks tokens:introspect.
            self._log.error("gatehouse_auth: introspection refused (%s): status %d", self.introspection_url, resp.status_code)
            raise Unavailable("introspection refused")
        try:
            if len(resp.content) > _MAX_INTROSPECTION_BYTES:
                raise ValueError("too large")
            answer = json.loads(resp.content)
        except ValueError:
            raise Unavailable("introspection answer malformed") from None
        if not isinstance(answer, dict):
            raise Unavailable("introspection answer malformed")
        return answer

    # ---- requests ------------------------------------------------------------------------

    async def authenticate(self, headers: Any) -> Principal:
        """Verify the credential of a request given its headers (an ASGI header list,
        Starlette's ``Headers``, or a mapping): an access token in ``Authorization: Bearer``,
        or, with accept_api_keys, an API key in ``X-API-Key`` or ``Authorization: Bearer
        ak_...``. Tokens in the query string or the body are never read (RFC 9700 §2.5, the
        MCP authorization spec). Scopes are not checked here."""
        bearer = ""
        auth = header_values(headers, "authorization")
        if len(auth) > 1:
            raise InvalidRequest("more than one Authorization header")
        if auth:
            scheme, _, rest = auth[0].partition(" ")
            if scheme.lower() == "bearer":
                bearer = rest.strip()
                if not bearer or " " in bearer or "\t" in bearer:
                    raise InvalidToken("malformed Authorization header")
            # Another scheme (Basic…) is not a credential for this server: no token.
        if self.accept_api_keys:
            keys = header_values(headers, "x-api-key")
            if keys:
                if len(keys) > 1 or bearer:
                    raise InvalidRequest("more than one credential")
                return await self.verify_api_key(keys[0].strip())
        if not bearer:
            raise NoToken()
        if bearer.startswith(API_KEY_PREFIX):
            return await self.verify_api_key(bearer)
        return await self.verify(bearer)

    async def authorize(self, headers: Any, *scopes: str) -> Principal:
        """:meth:`authenticate`, then :func:`require_scopes`."""
        p = await self.authenticate(headers)
        require_scopes(p, *scopes)
        return p

    def challenge(self, code: str | None = None, scopes: Sequence[str] = ()) -> str:
        """The WWW-Authenticate value for this resource: Bearer with resource_metadata (RFC 9728
        §5.1), scope when scopes are given, error when code is given."""
        out = f'Bearer resource_metadata="{_quote_safe(self.metadata_url)}"'
        if scopes:
            out += f', scope="{_quote_safe(" ".join(scopes))}"'
        if code:
            out += f', error="{_quote_safe(code)}"'
        return out

    def error_answer(self, err: BaseException, scopes: Sequence[str] = ()) -> tuple[int, list[tuple[str, str]], bytes]:
        """The HTTP answer to a request refused with ``err`` by an operation that needs
        ``scopes``: (status, headers, JSON body ``{"error", "error_description"}``).

        - no credential: 401, ``WWW-Authenticate: Bearer resource_metadata="…", scope="…"``
        - a bad one: the same plus ``error="invalid_token"``
        - missing scope: 403, ``error="insufficient_scope"``, scope naming every scope needed
        - credentials sent two ways: 400, ``error="invalid_request"``
        - Gatehouse unreachable: 503 with ``Retry-After``
        """
        e = err if isinstance(err, AuthError) else InvalidToken("invalid credential")
        if e.scopes:
            scopes = e.scopes
        headers = [("cache-control", "no-store"), ("content-type", "application/json")]
        if isinstance(e, Unavailable):
            headers.append(("retry-after", "5"))
        else:
            headers.append(("www-authenticate", self.challenge(e.code, scopes)))
        if e.code is None:
            body = {"error": "unauthorized", "error_description": "an access token is required"}
        else:
            body = {"error": e.code, "error_description": e.reason or "invalid credential"}
        return e.status, headers, json.dumps(body).encode()

    # ---- RFC 9728 metadata ---------------------------------------------------------------

    def add_scopes(self, *scopes: str) -> None:
        """Add scopes to scopes_supported in the metadata (every glue does this for the scopes
        it requires)."""
        with self._scopes_lock:
            for s in scopes:
                for one in s.split():
                    if one not in self._scopes:
                        self._scopes.append(one)

    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 protected-resource metadata: resource exactly as configured, the issuer
        as the one authorization server, scopes_supported, and the header as the only bearer
        method."""
        with self._scopes_lock:
            scopes = list(self._scopes)
        md: dict[str, Any] = {"resource": self.resource, "authorization_servers": [self.issuer]}
        if scopes:
            md["scopes_supported"] = scopes
        md["bearer_methods_supported"] = ["header"]
        if self.resource_name:
            md["resource_name"] = self.resource_name
        return md

    def metadata_answer(self, method: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """The HTTP answer at a metadata path: JSON to GET and HEAD (no body to HEAD), CORS open
        to every origin (browser-based MCP clients read it)."""
        headers = [("access-control-allow-origin", "*")]
        if method == "OPTIONS":
            headers += [("access-control-allow-methods", "GET, HEAD, OPTIONS"), ("access-control-allow-headers", "*")]
            return 204, headers, b""
        if method not in ("GET", "HEAD"):
            return 405, headers + [("allow", "GET, HEAD, OPTIONS"), ("content-type", "text/plain")], b"method not allowed\n"
        body = json.dumps(self.metadata()).encode()
        headers += [("content-type", "application/json"), ("cache-control", "public, max-age=300")]
        return 200, headers, body if method == "GET" else b""


class _Borrowed:
    """An async context manager that lends the caller's client without closing it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._c = client

    async def __aenter__(self) -> httpx.AsyncClient:
        return self._c

    async def __aexit__(self, *exc: object) -> None:
        return None



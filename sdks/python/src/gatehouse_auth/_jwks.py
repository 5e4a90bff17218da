"""Parsing Gatehouse's JWKS into the keys the kit verifies with, each pinned to one algorithm."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

_ALGS = get_default_algorithms()
_EC_ALG = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_RSA_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
# Members of a private JWK: a key carrying any of them is not a public key.
_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@dataclass(frozen=True)
class PublicKey:
    key: Any  # a cryptography public key
    alg: str  # the one JWS algorithm this key verifies
    verifier: Any  # PyJWT's Algorithm object for alg


def parse_jwks(body: bytes) -> dict[str, PublicKey]:
    """Keep the usable signature keys of a JWKS document: public, asymmetric, with a kid, use
    absent or "sig", and an algorithm that fits the key. Keys it cannot use are skipped rather
    than failing the whole set; two keys under one kid are both dropped."""
    doc = json.loads(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError('JWKS has no "keys" array')
    out: dict[str, PublicKey | None] = {}
    for jwk in doc["keys"]:
        if not isinstance(jwk, dict):
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        k = _public_key(jwk)
        if k is None:
            continue
        out[kid] = None if kid in out else k
    return {kid: k for kid, k in out.items() if k is not None}


def _public_key(jwk: dict[str, Any]) -> PublicKey | None:
    if jwk.get("use") not in (None, "sig") or any(m in jwk for m in _PRIVATE):
        return None
    published = jwk.get("alg")
    if published is not None and not isinstance(published, str):
        return None
    kty = jwk.get("kty")
    try:
        if kty == "EC":
            implied = [_EC_ALG.get(jwk.get("crv"), "")]
            key = _ALGS["ES256"].from_jwk(jwk)
            if not isinstance(key, ec.EllipticCurvePublicKey) or not implied[0]:
                return None
        elif kty == "RSA":
            implied = list(_RSA_ALGS)
            key = _ALGS["RS256"].from_jwk(jwk)
            if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
                return None
        elif kty == "OKP" and jwk.get("crv") == "Ed25519":
            implied = ["EdDSA", "Ed25519"]
            key = _ALGS["EdDSA"].from_jwk(jwk)
            if not isinstance(key, ed25519.Ed25519PublicKey):
                return None
        else:
            return None
    except Exception:  # a malformed key
        return None
    if published is None:
        alg = implied[0]
    elif published in implied:
        alg = published
    else:
        return None
    verifier = _ALGS.get("EdDSA" if alg == "Ed25519" else alg)
    if verifier is None:
        return None
    return PublicKey(key=key, alg=alg, verifier=verifier)

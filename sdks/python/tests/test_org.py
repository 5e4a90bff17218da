"""Organization claims and the actor chain on the principal, with tokens a stand-in issuer signs."""

from __future__ import annotations

import dataclasses

import pytest

from gatehouse_auth import InvalidToken, Principal, Verifier

pytestmark = pytest.mark.anyio
RES = "http://127.0.0.1:9/mcp"


async def test_organization_claims_and_has(standin, clock):
    v = Verifier(standin.url, RES, now=clock)
    tok = standin.mint(clock.t, RES, scope="mcp:tools invoices:read", org_id="org-1", org_role="billing",
                       org_permissions=["invoices:write", "members:read"])
    p = await v.verify(tok)
    assert (p.org_id, p.org_role, p.org_permissions) == ("org-1", "billing", ("invoices:write", "members:read"))
    assert p.has("invoices:write") and p.has_permission("members:read")
    # A scope is not a permission, nor the other way round; matches are exact.
    assert not p.has("invoices:read") and not p.has("mcp:tools") and not p.has_scope("invoices:write")
    assert not p.has("") and not p.has("INVOICES:WRITE")
    assert p.has_org_role("billing") and not p.has_org_role("admin") and not p.has_org_role("")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.org.role = "owner"  # type: ignore[misc]

    plain = await v.verify(standin.mint(clock.t, RES))
    assert plain.org is None and plain.org_id == "" and plain.org_permissions == () and not plain.has("invoices:write")
    assert not Principal(subject="u", scopes=("invoices:write",)).has("invoices:write")

    for name, claims in {
        "permissions not a list": {"org_id": "org-1", "org_permissions": "invoices:write"},
        "permissions not strings": {"org_id": "org-1", "org_permissions": [1, 2]},
        "org_id not a string": {"org_id": 7},
        "org_role not a string": {"org_id": "org-1", "org_role": ["owner"]},
    }.items():
        with pytest.raises(InvalidToken, match="organization claims"):
            await v.verify(standin.mint(clock.t, RES, **claims))
        assert name


async def test_act_on_the_principal(standin, clock):
    v = Verifier(standin.url, RES, now=clock)
    p = await v.verify(standin.mint(clock.t, RES, act={"sub": "agent-b", "act": {"sub": "agent-a"}}))
    assert p.delegated and p.act.subject == "agent-b" and p.act.act.subject == "agent-a" and p.act.depth == 2
    # An admin impersonating a user: sub is the user, act the admin, no client.
    imp = await v.verify(standin.mint(clock.t, RES, client_id=None, act={"sub": "admin-1"}))
    assert imp.delegated and imp.act.subject == "admin-1" and imp.subject == "user-1" and imp.client_id == ""
    direct = await v.verify(standin.mint(clock.t, RES))
    assert not direct.delegated and direct.act is None
    for act in [{"act": {"sub": "a"}}, {"sub": "a", "act": {"sub": "b", "act": {"sub": "c", "act": {"sub": "d"}}}},
                "agent", [{"sub": "a"}], {"sub": ""}]:
        with pytest.raises(InvalidToken, match='malformed "act"'):
            await v.verify(standin.mint(clock.t, RES, act=act))

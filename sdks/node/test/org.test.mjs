// Organization claims and the actor chain on the principal, with tokens a stand-in issuer signs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseAuthError, Verifier, actorDepth, hasOrgRole, hasPermission, hasScopes, isDelegated } from '../dist/index.js';
import { Clock, ISSUER, RESOURCE, StandIn } from './issuer.mjs';

async function setup() {
  const clock = new Clock();
  const iss = new StandIn(clock);
  await iss.addKey();
  const v = new Verifier({ issuer: ISSUER, resource: RESOURCE, fetch: iss.fetch, now: clock.now });
  return { iss, v };
}

const reasonOf = (p) => p.then(() => 'accepted', (e) => (e instanceof GatehouseAuthError ? e.kind : `other: ${e}`));

test('organization claims: on the principal, hasPermission and hasOrgRole, apart from scopes', async () => {
  const { iss, v } = await setup();
  const p = await v.verify(await iss.mint({ scope: 'mcp:tools invoices:read', org_id: 'org-1', org_role: 'billing', org_permissions: ['invoices:write', 'members:read'] }));
  assert.deepEqual({ ...p.org, permissions: [...p.org.permissions] }, { id: 'org-1', role: 'billing', permissions: ['invoices:write', 'members:read'] });
  assert.ok(Object.isFrozen(p.org) && Object.isFrozen(p.org.permissions), 'a shared principal is frozen all the way down');
  assert.ok(hasPermission(p, 'invoices:write') && hasPermission(p, 'members:read'));
  // A scope is not a permission, nor the other way round; matches are exact.
  assert.ok(!hasPermission(p, 'invoices:read') && !hasPermission(p, 'mcp:tools') && !hasScopes(p, 'invoices:write'));
  assert.ok(!hasPermission(p, '') && !hasPermission(p, 'INVOICES:WRITE'));
  assert.ok(hasOrgRole(p, 'billing') && !hasOrgRole(p, 'admin') && !hasOrgRole(p, ''));

  const plain = await v.verify(await iss.mint({}));
  assert.equal(plain.org, undefined);
  assert.ok(!hasPermission(plain, 'invoices:write') && !hasOrgRole(plain, 'member'));
  assert.ok(!hasPermission(undefined, 'x') && !hasPermission(null, 'x'));

  for (const [name, claims] of Object.entries({
    'permissions not an array': { org_id: 'org-1', org_permissions: 'invoices:write' },
    'permissions not strings': { org_id: 'org-1', org_permissions: [1, 2] },
    'org_id not a string': { org_id: 7 },
    'org_role not a string': { org_id: 'org-1', org_role: ['owner'] },
  })) {
    assert.equal(await reasonOf(v.verify(await iss.mint(claims))), 'invalid_token', name);
  }
});

test('act: the actor chain of a delegated (or impersonation) token', async () => {
  const { iss, v } = await setup();
  const p = await v.verify(await iss.mint({ act: { sub: 'agent-b', act: { sub: 'agent-a' } } }));
  assert.ok(isDelegated(p));
  assert.equal(p.act.sub, 'agent-b');
  assert.equal(p.act.act.sub, 'agent-a');
  assert.equal(actorDepth(p.act), 2);
  assert.ok(Object.isFrozen(p.act) && Object.isFrozen(p.act.act));
  // An admin impersonating a user: sub is the user, act the admin, no client.
  const imp = await v.verify(await iss.mint({ client_id: undefined, act: { sub: 'admin-1' } }));
  assert.ok(isDelegated(imp) && imp.act.sub === 'admin-1' && imp.subject === 'user-1' && imp.clientId === undefined);
  const direct = await v.verify(await iss.mint({}));
  assert.ok(!isDelegated(direct) && direct.act === undefined);
  for (const [name, act] of Object.entries({
    'no sub': { act: { sub: 'a' } },
    'too deep': { sub: 'a', act: { sub: 'b', act: { sub: 'c', act: { sub: 'd' } } } },
    'not an object': 'agent',
    'an array': [{ sub: 'a' }],
  })) {
    assert.equal(await reasonOf(v.verify(await iss.mint({ act }))), 'invalid_token', name);
  }
});

package gatehouseauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousetest"
)

// A token of a session with an active organization carries org_id, org_role and
// org_permissions; the principal exposes them, and HasPermission reads only the permissions.
func TestPrincipalOrganization(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	tok := r.token(func(c *gatehousetest.Claims) {
		c.Scope = "mcp:tools invoices:read"
		c.Extra = map[string]any{"org_id": "org-1", "org_role": "billing", "org_permissions": []string{"invoices:write", "members:read"}}
	})
	p, err := r.v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Org == nil || p.OrgID() != "org-1" || p.OrgRole() != "billing" || len(p.Org.Permissions) != 2 {
		t.Fatalf("organization %+v", p.Org)
	}
	if !p.HasPermission("invoices:write") || !p.HasPermission("members:read") {
		t.Fatal("a permission the token carries is not held")
	}
	// Scopes and permissions stay apart: a scope is not a permission, nor the other way round.
	if p.HasPermission("invoices:read") || p.HasPermission("mcp:tools") || p.HasScope("invoices:write") {
		t.Fatal("scopes and organization permissions are mixed up")
	}
	if p.HasPermission("") || p.HasPermission("INVOICES:WRITE") || !p.HasOrgRole("billing") || p.HasOrgRole("admin") || p.HasOrgRole("") {
		t.Fatal("permission or role matched loosely")
	}

	// A token without an organization has none, and holds no permission.
	plain, err := r.v.Verify(ctx, r.token(nil))
	if err != nil || plain.Org != nil || plain.OrgID() != "" || plain.OrgRole() != "" || plain.HasPermission("invoices:write") {
		t.Fatalf("a token without an organization: %+v %v", plain, err)
	}
	var nobody *gatehouseauth.Principal
	if nobody.HasPermission("x") || nobody.OrgID() != "" || nobody.HasOrgRole("owner") {
		t.Fatal("a nil principal holds something")
	}

	// Claims of the wrong JSON type make the token invalid, as for every checked claim.
	for name, extra := range map[string]map[string]any{
		"permissions not an array": {"org_id": "org-1", "org_permissions": "invoices:write"},
		"permissions not strings":  {"org_id": "org-1", "org_permissions": []any{1, 2}},
		"org_id not a string":      {"org_id": 7},
		"org_role not a string":    {"org_id": "org-1", "org_role": []string{"owner"}},
	} {
		tok := r.token(func(c *gatehousetest.Claims) { c.Extra = extra })
		if _, err := r.v.Verify(ctx, tok); !errors.Is(err, gatehouseauth.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
}

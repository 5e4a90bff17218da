package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Organizations (docs/organizations.md). Every endpoint under /api/v1/orgs takes a signed-in
// session (requireSession); the rules decide what the caller's role in the organization allows.

var errOrgsUnavailable = &gatehouse.Error{Kind: gatehouse.KindUnavailable, Code: "orgs_unavailable", Message: "Organizations are not available on this server."}

// withOrgs serves h with the organization rules, or orgs_unavailable without them.
func (a *api) withOrgs(h func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Orgs == nil {
			writeError(w, r, a.Log, errOrgsUnavailable)
			return
		}
		h(w, r, a.Orgs)
	})
}

type orgJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Slug        string   `json:"slug"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	Role        string   `json:"role,omitempty"`        // the caller's role
	Permissions []string `json:"permissions,omitempty"` // what the caller's role allows
	// AutoJoinDomain is shown when set.
	AutoJoinDomain string `json:"auto_join_domain,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orgView(o *gatehouse.Org, role string, perms []string) orgJSON {
	return orgJSON{ID: o.ID, Name: o.Name, Slug: o.Slug, CreatedAt: rfc3339(o.CreatedAt), UpdatedAt: rfc3339(o.UpdatedAt),
		Role: role, Permissions: perms, AutoJoinDomain: o.AutoJoinDomain}
}

type orgRequest struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

func (a *api) handleCreateOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[orgRequest](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		o, err := orgs.CreateOrg(r.Context(), principalFrom(r.Context()), gatehouse.OrgInput(in))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusCreated, orgView(o, gatehouse.OrgRoleOwner, gatehouse.BuiltinOrgRolePermissions(gatehouse.OrgRoleOwner)))
	})
}

func (a *api) handleListOrgs() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		list, err := orgs.ListOrgs(r.Context(), principalFrom(r.Context()))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]orgJSON, 0, len(list))
		for _, m := range list {
			out = append(out, orgView(&m.Org, m.Role, nil))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleGetOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		acc, err := orgs.GetOrg(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, orgView(acc.Org, acc.Role, acc.Permissions))
	})
}

func (a *api) handleUpdateOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[orgRequest](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		o, err := orgs.UpdateOrg(r.Context(), principalFrom(r.Context()), r.PathValue("id"), gatehouse.OrgInput(in))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, orgView(o, "", nil))
	})
}

func (a *api) handleDeleteOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		if err := orgs.DeleteOrg(r.Context(), principalFrom(r.Context()), r.PathValue("id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type memberJSON struct {
	UserID   string `json:"user_id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	JoinedAt string `json:"joined_at"`
}

func memberView(m *gatehouse.Membership) memberJSON {
	return memberJSON{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: m.Role, JoinedAt: rfc3339(m.CreatedAt)}
}

func (a *api) handleListMembers() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		list, err := orgs.ListMembers(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]memberJSON, 0, len(list))
		for _, m := range list {
			out = append(out, memberView(m))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleUpdateMember() http.Handler {
	type request struct {
		Role string `json:"role"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		m, err := orgs.SetMemberRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("user_id"), in.Role)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, memberView(m))
	})
}

func (a *api) handleRemoveMember() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		if err := orgs.RemoveMember(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("user_id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type orgRoleJSON struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	Builtin     bool     `json:"builtin"`
}

func orgRoleView(ro *gatehouse.OrgRole) orgRoleJSON {
	return orgRoleJSON{Name: ro.Name, Permissions: ro.Permissions, Builtin: gatehouse.BuiltinOrgRole(ro.Name)}
}

type orgRoleRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

func (a *api) handleListOrgRoles() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		list, err := orgs.ListRoles(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]orgRoleJSON, 0, len(list))
		for _, ro := range list {
			out = append(out, orgRoleView(ro))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleCreateOrgRole() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[orgRoleRequest](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		ro, err := orgs.CreateRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Name, in.Permissions)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusCreated, orgRoleView(ro))
	})
}

func (a *api) handleUpdateOrgRole() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[orgRoleRequest](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if in.Permissions == nil {
			writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "permissions", Message: "permissions is required."}))
			return
		}
		ro, err := orgs.UpdateRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("name"), in.Permissions)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, orgRoleView(ro))
	})
}

func (a *api) handleDeleteOrgRole() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		if err := orgs.DeleteRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("name")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type invitationJSON struct {
	ID        string `json:"id"`
	OrgID     string `json:"org_id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	InvitedBy string `json:"invited_by"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
}

func invitationView(i *gatehouse.Invitation) invitationJSON {
	return invitationJSON{ID: i.ID, OrgID: i.OrgID, Email: i.Email, Role: i.Role, InvitedBy: i.InvitedBy,
		CreatedAt: rfc3339(i.CreatedAt), ExpiresAt: rfc3339(i.ExpiresAt)}
}

func (a *api) handleCreateInvitation() http.Handler {
	type request struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		inv, err := orgs.Invite(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Email, in.Role)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusCreated, invitationView(inv))
	})
}

func (a *api) handleListInvitations() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		list, err := orgs.ListInvitations(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]invitationJSON, 0, len(list))
		for _, i := range list {
			out = append(out, invitationView(i))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleRevokeInvitation() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		if err := orgs.RevokeInvitation(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("invitation_id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (a *api) handleAcceptInvitation() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	type response struct {
		Org  orgJSON `json:"org"`
		Role string  `json:"role"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		res, err := orgs.AcceptInvitation(r.Context(), principalFrom(r.Context()), in.Token)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, response{Org: orgView(res.Org, res.Membership.Role, nil), Role: res.Membership.Role})
	})
}

// handleSwitchActiveOrg makes an organization the session's active one and answers a new access
// token that carries it (no refresh token: the session's stays valid).
func (a *api) handleSwitchActiveOrg() http.Handler {
	type request struct {
		OrgID *string `json:"org_id"`
	}
	type response struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		OrgID       string `json:"org_id"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		if in.OrgID == nil {
			writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "org_id", Message: "org_id is required (an empty string leaves no active organization)."}))
			return
		}
		ts, err := orgs.SwitchActiveOrg(r.Context(), principalFrom(r.Context()), *in.OrgID)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusOK, response{AccessToken: ts.AccessToken, TokenType: "bearer", ExpiresIn: int(ts.ExpiresIn / time.Second), OrgID: *in.OrgID})
	})
}

type orgAPIKeyJSON struct {
	apiKeyJSON
	OrgID     string `json:"org_id"`
	CreatedBy string `json:"created_by"`
}

func orgAPIKeyView(k *gatehouse.APIKey) orgAPIKeyJSON {
	return orgAPIKeyJSON{apiKeyJSON: apiKeyView(k), OrgID: k.OrgID, CreatedBy: k.UserID}
}

func (a *api) handleListOrgAPIKeys() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		keys, err := orgs.ListOrgAPIKeys(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		out := make([]orgAPIKeyJSON, 0, len(keys))
		for _, k := range keys {
			out = append(out, orgAPIKeyView(k))
		}
		respond(w, http.StatusOK, out)
	})
}

func (a *api) handleCreateOrgAPIKey() http.Handler {
	type request struct {
		Name          string   `json:"name"`
		Scopes        []string `json:"scopes"`
		ExpiresInDays *int     `json:"expires_in_days"`
	}
	type response struct {
		orgAPIKeyJSON
		APIKey string `json:"api_key"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		k, secret, err := orgs.CreateOrgAPIKey(r.Context(), principalFrom(r.Context()), r.PathValue("id"), gatehouse.NewAPIKeyInput(in))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		respond(w, http.StatusCreated, response{orgAPIKeyJSON: orgAPIKeyView(k), APIKey: secret})
	})
}

func (a *api) handleRevokeOrgAPIKey() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		if err := orgs.RevokeOrgAPIKey(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("key_id")); err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (a *api) handleOrgCreditBalance() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		b, err := orgs.OrgCreditBalance(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, balanceView(b))
	})
}

func (a *api) handleGrantOrgCredits() http.Handler {
	type request struct {
		Amount      int64  `json:"amount"`
		Description string `json:"description"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		b, err := orgs.GrantOrgCredits(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Amount, in.Description)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, balanceView(b))
	})
}

func (a *api) handleOrgAudit() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		orgID := r.PathValue("id")
		p := principalFrom(r.Context())
		a.auditPageOf(w, r, gatehouse.AuditFilter{}, func(ctx context.Context, f gatehouse.AuditFilter) ([]*gatehouse.AuditEvent, string, error) {
			return orgs.OrgAuditLog(ctx, p, orgID, f)
		})
	})
}

// handleAdminOrgAutoJoin sets or clears an organization's verified auto-join domain (admins).
func (a *api) handleAdminOrgAutoJoin() http.Handler {
	type request struct {
		AutoJoinDomain string `json:"auto_join_domain"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		o, err := orgs.SetAutoJoinDomain(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.AutoJoinDomain)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, orgView(o, "", nil))
	})
}

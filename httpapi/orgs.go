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

// plainOrgView shows an organization without the caller's role.
func plainOrgView(o *gatehouse.Org) orgJSON { return orgView(o, "", nil) }

type orgRequest struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

func (a *api) handleCreateOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serveBody(a, w, r, func(in orgRequest) (*gatehouse.Org, error) {
			return orgs.CreateOrg(r.Context(), principalFrom(r.Context()), gatehouse.OrgInput(in))
		}, answer(http.StatusCreated, func(o *gatehouse.Org) orgJSON {
			return orgView(o, gatehouse.OrgRoleOwner, gatehouse.BuiltinOrgRolePermissions(gatehouse.OrgRoleOwner))
		}))
	})
}

func (a *api) handleListOrgs() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serve(a, w, r, func() ([]*gatehouse.OrgMembership, error) {
			return orgs.ListOrgs(r.Context(), principalFrom(r.Context()))
		}, answer(http.StatusOK, listOf(func(m *gatehouse.OrgMembership) orgJSON { return orgView(&m.Org, m.Role, nil) })))
	})
}

func (a *api) handleGetOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serve(a, w, r, func() (*gatehouse.OrgAccess, error) {
			return orgs.GetOrg(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		}, answer(http.StatusOK, func(acc *gatehouse.OrgAccess) orgJSON { return orgView(acc.Org, acc.Role, acc.Permissions) }))
	})
}

func (a *api) handleUpdateOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serveBody(a, w, r, func(in orgRequest) (*gatehouse.Org, error) {
			return orgs.UpdateOrg(r.Context(), principalFrom(r.Context()), r.PathValue("id"), gatehouse.OrgInput(in))
		}, answer(http.StatusOK, plainOrgView))
	})
}

func (a *api) handleDeleteOrg() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		a.noContent(w, r, orgs.DeleteOrg(r.Context(), principalFrom(r.Context()), r.PathValue("id")))
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
		serve(a, w, r, func() ([]*gatehouse.Membership, error) {
			return orgs.ListMembers(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		}, answer(http.StatusOK, listOf(memberView)))
	})
}

func (a *api) handleUpdateMember() http.Handler {
	type request struct {
		Role string `json:"role"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serveBody(a, w, r, func(in request) (*gatehouse.Membership, error) {
			return orgs.SetMemberRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("user_id"), in.Role)
		}, answer(http.StatusOK, memberView))
	})
}

func (a *api) handleRemoveMember() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		a.noContent(w, r, orgs.RemoveMember(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("user_id")))
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
		serve(a, w, r, func() ([]*gatehouse.OrgRole, error) {
			return orgs.ListRoles(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		}, answer(http.StatusOK, listOf(orgRoleView)))
	})
}

func (a *api) handleCreateOrgRole() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serveBody(a, w, r, func(in orgRoleRequest) (*gatehouse.OrgRole, error) {
			return orgs.CreateRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Name, in.Permissions)
		}, answer(http.StatusCreated, orgRoleView))
	})
}

func (a *api) handleUpdateOrgRole() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serveBody(a, w, r, func(in orgRoleRequest) (*gatehouse.OrgRole, error) {
			if in.Permissions == nil {
				return nil, gatehouse.Invalid(gatehouse.FieldError{Field: "permissions", Message: "permissions is required."})
			}
			return orgs.UpdateRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("name"), in.Permissions)
		}, answer(http.StatusOK, orgRoleView))
	})
}

func (a *api) handleDeleteOrgRole() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		a.noContent(w, r, orgs.DeleteRole(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("name")))
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
		serveBody(a, w, r, func(in request) (*gatehouse.Invitation, error) {
			return orgs.Invite(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Email, in.Role)
		}, answer(http.StatusCreated, invitationView))
	})
}

func (a *api) handleListInvitations() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serve(a, w, r, func() ([]*gatehouse.Invitation, error) {
			return orgs.ListInvitations(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		}, answer(http.StatusOK, listOf(invitationView)))
	})
}

func (a *api) handleRevokeInvitation() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		a.noContent(w, r, orgs.RevokeInvitation(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("invitation_id")))
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
		serveBody(a, w, r, func(in request) (*gatehouse.AcceptedInvitation, error) {
			return orgs.AcceptInvitation(r.Context(), principalFrom(r.Context()), in.Token)
		}, answer(http.StatusOK, func(res *gatehouse.AcceptedInvitation) response {
			return response{Org: orgView(res.Org, res.Membership.Role, nil), Role: res.Membership.Role}
		}))
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
		serveBody(a, w, r, func(in request) (response, error) {
			if in.OrgID == nil {
				return response{}, gatehouse.Invalid(gatehouse.FieldError{Field: "org_id", Message: "org_id is required (an empty string leaves no active organization)."})
			}
			ts, err := orgs.SwitchActiveOrg(r.Context(), principalFrom(r.Context()), *in.OrgID)
			if err != nil {
				return response{}, err
			}
			return response{AccessToken: ts.AccessToken, TokenType: "bearer", ExpiresIn: int(ts.ExpiresIn / time.Second), OrgID: *in.OrgID}, nil
		}, answerSecret(http.StatusOK, asIs[response]))
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
		serve(a, w, r, func() ([]*gatehouse.APIKey, error) {
			return orgs.ListOrgAPIKeys(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		}, answer(http.StatusOK, listOf(orgAPIKeyView)))
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
		serveBody(a, w, r, func(in request) (response, error) {
			k, secret, err := orgs.CreateOrgAPIKey(r.Context(), principalFrom(r.Context()), r.PathValue("id"), gatehouse.NewAPIKeyInput(in))
			if err != nil {
				return response{}, err
			}
			return response{orgAPIKeyJSON: orgAPIKeyView(k), APIKey: secret}, nil
		}, answerSecret(http.StatusCreated, asIs[response]))
	})
}

func (a *api) handleRevokeOrgAPIKey() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		a.noContent(w, r, orgs.RevokeOrgAPIKey(r.Context(), principalFrom(r.Context()), r.PathValue("id"), r.PathValue("key_id")))
	})
}

func (a *api) handleOrgCreditBalance() http.Handler {
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serve(a, w, r, func() (*gatehouse.CreditAccount, error) {
			return orgs.OrgCreditBalance(r.Context(), principalFrom(r.Context()), r.PathValue("id"))
		}, answer(http.StatusOK, balanceView))
	})
}

func (a *api) handleGrantOrgCredits() http.Handler {
	type request struct {
		Amount      int64  `json:"amount"`
		Description string `json:"description"`
	}
	return a.withOrgs(func(w http.ResponseWriter, r *http.Request, orgs *gatehouse.OrgService) {
		serveBody(a, w, r, func(in request) (*gatehouse.CreditAccount, error) {
			return orgs.GrantOrgCredits(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.Amount, in.Description)
		}, answer(http.StatusOK, balanceView))
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
		serveBody(a, w, r, func(in request) (*gatehouse.Org, error) {
			return orgs.SetAutoJoinDomain(r.Context(), principalFrom(r.Context()), r.PathValue("id"), in.AutoJoinDomain)
		}, answer(http.StatusOK, plainOrgView))
	})
}

package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The organization pages drive OrgService, the service the /api/v1/orgs endpoints drive: every
// permission check, validation and refusal (an impersonation session's changes among them) is the
// service's; the pages only hide controls the caller's role would not be allowed to use.

// orgSwitcher is the layout's organization switcher: the signed-in user's organizations and the
// session's active one.
type orgSwitcher struct {
	Orgs   []*gatehouse.OrgMembership
	Active string
}

// switcher loads the switcher for the layout; it is empty when organizations are off, for
// principals that cannot have organizations, or when the list cannot be read (the page still works).
func (s *server) switcher(r *http.Request, p *gatehouse.Principal) *orgSwitcher {
	if s.Orgs == nil || p == nil {
		return nil
	}
	list, err := s.Orgs.ListOrgs(r.Context(), p)
	if err != nil || len(list) == 0 {
		return nil
	}
	sw := &orgSwitcher{Orgs: list}
	if p.Claims != nil {
		sw.Active = p.Claims.OrgID
	}
	return sw
}

type orgsData struct {
	Orgs []*gatehouse.OrgMembership
}

// orgsPage is GET /orgs: the caller's organizations and the form that creates one.
func (s *server) orgsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	s.renderOrgs(w, r, v, nil, nil)
}

func (s *server) renderOrgs(w http.ResponseWriter, r *http.Request, v *visit, form map[string]string, failure error) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	list, err := s.Orgs.ListOrgs(r.Context(), v.p)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	vw := &view{Title: "Organizations", Nav: "orgs", Data: orgsData{Orgs: list}, Form: map[string]string{}}
	for k, val := range form {
		vw.Form[k] = val
	}
	if failure != nil {
		s.failForm(w, r, v, "orgs", vw, failure)
		return
	}
	s.render(w, r, v, http.StatusOK, "orgs", vw)
}

// createOrg is POST /orgs: OrgService.CreateOrg, as POST /api/v1/orgs.
func (s *server) createOrg(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	name, slug := r.PostFormValue("name"), strings.TrimSpace(r.PostFormValue("slug"))
	org, err := s.Orgs.CreateOrg(r.Context(), v.p, gatehouse.OrgInput{Name: &name, Slug: &slug})
	if err != nil {
		s.renderOrgs(w, r, v, map[string]string{"name": name, "slug": slug}, err)
		return
	}
	redirect(w, r, "/orgs/"+url.PathEscape(org.ID)+"?notice=org_created")
}

// switchOrg is POST /orgs/switch: OrgService.SwitchActiveOrg, as POST /api/v1/orgs/switch. The
// new access token replaces the old one in the session cookie (the session's refresh token stays).
func (s *server) switchOrg(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	ts, err := s.Orgs.SwitchActiveOrg(r.Context(), v.p, r.PostFormValue("org_id"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	_, refresh, _ := decodeSession(v.session)
	s.renewSession(w, &gatehouse.TokenSet{AccessToken: ts.AccessToken, RefreshToken: refresh})
	back := safeNext(r.PostFormValue("next"))
	if back == "" {
		back = "/orgs"
	}
	u, err := url.Parse(back)
	if err != nil {
		u = &url.URL{Path: "/orgs"}
	}
	q := u.Query()
	q.Set("notice", "org_switched")
	u.RawQuery = q.Encode()
	redirect(w, r, u.String())
}

type orgMemberRow struct {
	*gatehouse.Membership
	Self bool
}

type orgRoleRow struct {
	Name        string
	Builtin     bool
	Permissions []string
	Checks      []scopeOption
}

type orgData struct {
	Access      *gatehouse.OrgAccess
	Active      bool
	Members     []orgMemberRow
	Invitations []*gatehouse.Invitation
	Roles       []orgRoleRow
	RoleNames   []string
	NewRole     []scopeOption
	Keys        []keyRow
	KeyScopes   []scopeOption
	Expiry      []expiryOption
	Created     *newKey
	Missed      bool
	Credits     *gatehouse.CreditAccount
	Audit       []*gatehouse.AuditEvent
	// Can* hide the controls the caller's role lacks the permission for; the service decides.
	CanUpdate, CanMembers, CanInvite, CanRoles, CanKeysRead, CanKeys, CanCredits, CanAudit bool
}

func permOptions(checked []string) []scopeOption {
	var out []scopeOption
	for _, p := range gatehouse.AllOrgPermissions {
		out = append(out, scopeOption{Name: p, Checked: slices.Contains(checked, p)})
	}
	return out
}

// orgView reads what the caller may see of the organization, section by section.
func (s *server) orgView(r *http.Request, v *visit, orgID string) (*view, error) {
	ctx := r.Context()
	a, err := s.Orgs.GetOrg(ctx, v.p, orgID)
	if err != nil {
		return nil, err
	}
	d := orgData{Access: a, Active: v.p.Claims != nil && v.p.Claims.OrgID == a.Org.ID,
		CanUpdate: a.Can(gatehouse.PermOrgUpdate), CanMembers: a.Can(gatehouse.PermMembersWrite), CanInvite: a.Can(gatehouse.PermInvitationsWrite),
		CanRoles: a.Can(gatehouse.PermRolesWrite), CanKeysRead: a.Can(gatehouse.PermKeysRead), CanKeys: a.Can(gatehouse.PermKeysWrite),
		CanCredits: a.Can(gatehouse.PermCreditsRead), CanAudit: a.Can(gatehouse.PermAuditRead)}
	if a.Can(gatehouse.PermMembersRead) {
		ms, err := s.Orgs.ListMembers(ctx, v.p, orgID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			d.Members = append(d.Members, orgMemberRow{Membership: m, Self: m.UserID == v.p.User.ID})
		}
	}
	if d.CanInvite {
		if d.Invitations, err = s.Orgs.ListInvitations(ctx, v.p, orgID); err != nil {
			return nil, err
		}
	}
	roles, err := s.Orgs.ListRoles(ctx, v.p, orgID)
	if err != nil {
		return nil, err
	}
	for _, rl := range roles {
		d.Roles = append(d.Roles, orgRoleRow{Name: rl.Name, Builtin: gatehouse.BuiltinOrgRole(rl.Name), Permissions: rl.Permissions, Checks: permOptions(rl.Permissions)})
		d.RoleNames = append(d.RoleNames, rl.Name)
	}
	d.NewRole = permOptions(nil)
	if d.CanKeysRead {
		keys, err := s.Orgs.ListOrgAPIKeys(ctx, v.p, orgID)
		if err != nil {
			return nil, err
		}
		kd := keysPageData(keys, false, nil, gatehouse.DefaultAPIKeyLifetimeDays, time.Now())
		d.Keys, d.Expiry = kd.Keys, kd.Expiry
		for _, sc := range gatehouse.OrgKeyScopes {
			d.KeyScopes = append(d.KeyScopes, scopeOption{Name: sc, Help: scopeHelp[sc], Checked: true})
		}
	}
	if d.CanCredits {
		if d.Credits, err = s.Orgs.OrgCreditBalance(ctx, v.p, orgID); err != nil {
			return nil, err
		}
	}
	if d.CanAudit {
		if d.Audit, _, err = s.Orgs.OrgAuditLog(ctx, v.p, orgID, gatehouse.AuditFilter{Limit: 20}); err != nil {
			return nil, err
		}
	}
	return &view{Title: a.Org.Name, Nav: "orgs", Data: d, Form: map[string]string{}}, nil
}

// orgPage is GET /orgs/{id}.
func (s *server) orgPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	vw, err := s.orgView(r, v, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	d := vw.Data.(orgData)
	if d.CanKeysRead {
		d.Created, d.Missed = s.takeNewKey(w, r, v)
	}
	vw.Data = d
	s.render(w, r, v, http.StatusOK, "org", vw)
}

// orgAction is POST /orgs/{id}: one form per action, each a call of the service method the
// matching API endpoint calls. Success redirects back (post/redirect/get); a refusal shows the
// page with the service's message.
func (s *server) orgAction(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	ctx := r.Context()
	orgID := r.PathValue("id")
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, v, gatehouse.Errorf(gatehouse.KindBadRequest, "malformed_form", "The form could not be read."))
		return
	}
	f := r.PostForm
	back := "/orgs/" + url.PathEscape(orgID)
	var err error
	notice := ""
	switch f.Get("action") {
	case "set_role":
		_, err = s.Orgs.SetMemberRole(ctx, v.p, orgID, f.Get("user_id"), f.Get("role"))
		notice = "member_updated"
	case "remove_member":
		err = s.Orgs.RemoveMember(ctx, v.p, orgID, f.Get("user_id"))
		notice = "member_removed"
	case "leave":
		if err = s.Orgs.RemoveMember(ctx, v.p, orgID, v.p.User.ID); err == nil {
			redirect(w, r, "/orgs?notice=org_left")
			return
		}
	case "invite":
		_, err = s.Orgs.Invite(ctx, v.p, orgID, f.Get("email"), f.Get("role"))
		notice = "invitation_sent"
	case "revoke_invitation":
		err = s.Orgs.RevokeInvitation(ctx, v.p, orgID, f.Get("id"))
		notice = "invitation_revoked"
	case "create_role":
		_, err = s.Orgs.CreateRole(ctx, v.p, orgID, f.Get("name"), nonNil(f["permissions"]))
		notice = "role_saved"
	case "update_role":
		_, err = s.Orgs.UpdateRole(ctx, v.p, orgID, f.Get("name"), nonNil(f["permissions"]))
		notice = "role_saved"
	case "delete_role":
		err = s.Orgs.DeleteRole(ctx, v.p, orgID, f.Get("name"))
		notice = "role_deleted"
	case "create_key":
		var days int
		if days, err = strconv.Atoi(strings.TrimSpace(f.Get("expires_in_days"))); err != nil {
			err = invalid("expires_in_days", "Choose how long the key works.")
			break
		}
		scopes := nonNil(f["scopes"])
		if len(scopes) == 0 {
			err = invalid("scopes", "Choose at least one scope.")
			break
		}
		var k *gatehouse.APIKey
		var secret string
		if k, secret, err = s.Orgs.CreateOrgAPIKey(ctx, v.p, orgID, gatehouse.NewAPIKeyInput{Name: f.Get("key_name"), Scopes: scopes, ExpiresInDays: &days}); err == nil {
			id := s.reveals.put(v.p.User.ID, v.p.SessionID, k.Name, secret)
			http.SetCookie(w, s.cookie(s.cookies.newKey, id, revealTTL))
			redirect(w, r, back+"#keys")
			return
		}
	case "revoke_key":
		err = s.Orgs.RevokeOrgAPIKey(ctx, v.p, orgID, f.Get("id"))
		notice = "key_revoked"
	default:
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	}
	if err != nil {
		vw, lerr := s.orgView(r, v, orgID)
		if lerr != nil {
			s.fail(w, r, v, err)
			return
		}
		for _, k := range []string{"email", "role", "name", "key_name"} {
			vw.Form[k] = f.Get(k)
		}
		s.failForm(w, r, v, "org", vw, err)
		return
	}
	redirect(w, r, back+"?notice="+notice)
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// adminOrgsPage is GET /admin/orgs: a Gatehouse admin grants an organization credits and sets its
// auto-join domain, by the organization's id (as the admin API does).
func (s *server) adminOrgsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	s.renderAdminOrgs(w, r, v, http.StatusOK, &view{Title: "Organizations", Nav: "admin_orgs", Form: map[string]string{}}, nil)
}

// renderAdminOrgs renders the admins' organizations page, with the list of every organization,
// and err (a refused form) when there is one.
func (s *server) renderAdminOrgs(w http.ResponseWriter, r *http.Request, v *visit, status int, vw *view, err error) {
	list, lerr := s.Orgs.AdminListOrgs(r.Context())
	if lerr != nil {
		s.fail(w, r, v, lerr)
		return
	}
	vw.Data = list
	if err != nil {
		s.failForm(w, r, v, "admin_orgs", vw, err)
		return
	}
	s.render(w, r, v, status, "admin_orgs", vw)
}

// adminOrgsAction is POST /admin/orgs: OrgService.GrantOrgCredits and SetAutoJoinDomain, as
// POST /api/v1/admin/orgs/{id}/credits and PATCH /api/v1/admin/orgs/{id}.
func (s *server) adminOrgsAction(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Orgs == nil {
		s.fail(w, r, v, gatehouse.ErrNotFound)
		return
	}
	ctx := r.Context()
	orgID := strings.TrimSpace(r.PostFormValue("org_id"))
	var err error
	notice := ""
	switch r.PostFormValue("action") {
	case "grant_credits":
		amount, perr := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("amount")), 10, 64)
		if perr != nil {
			err = invalid("amount", "Enter a whole number of credits.")
			break
		}
		var acct *gatehouse.CreditAccount
		if acct, err = s.Orgs.GrantOrgCredits(ctx, v.p, orgID, amount, r.PostFormValue("description")); err == nil {
			notice = "Granted " + formatNumber(amount) + " credits; the organization's balance is now " + formatNumber(acct.Total-acct.Used) + "."
		}
	case "auto_join":
		var org *gatehouse.Org
		if org, err = s.Orgs.SetAutoJoinDomain(ctx, v.p, orgID, strings.TrimSpace(r.PostFormValue("domain"))); err == nil {
			notice = "The auto-join domain of " + org.Name + " was saved."
		}
	default:
		err = gatehouse.Errorf(gatehouse.KindBadRequest, "unknown_action", "Unknown action.")
	}
	vw := &view{Title: "Organizations", Nav: "admin_orgs", Form: map[string]string{"org_id": orgID, "amount": r.PostFormValue("amount"),
		"description": r.PostFormValue("description"), "domain": r.PostFormValue("domain")}}
	vw.Notice = notice
	s.renderAdminOrgs(w, r, v, http.StatusOK, vw, err)
}

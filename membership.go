package gatehouse

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ListMembers returns the organization's members (members:read).
func (o *OrgService) ListMembers(ctx context.Context, p *Principal, orgID string) ([]*Membership, error) {
	if _, err := o.access(ctx, nil, p, orgID, PermMembersRead); err != nil {
		return nil, err
	}
	return o.auth.store.ListMembers(ctx, orgID)
}

// roleExists reports whether role is built in or one of the organization's custom roles.
func roleExists(ctx context.Context, r OrgReader, orgID, role string) (bool, error) {
	if BuiltinOrgRole(role) {
		return true, nil
	}
	if !validRoleName(role) {
		return false, nil
	}
	_, err := r.OrgRoleByName(ctx, orgID, role)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// mayGrant checks that the caller (a) may give role to someone: only owners grant ownership, and
// nobody grants a role with a permission they do not hold.
func mayGrant(ctx context.Context, r OrgReader, a *OrgAccess, role string) error {
	if role == OrgRoleOwner && a.Role != OrgRoleOwner {
		return ErrOwnerOnly
	}
	perms, err := rolePermissions(ctx, r, a.Org.ID, role)
	if err != nil {
		return err
	}
	for _, perm := range perms {
		if !a.Can(perm) {
			return errGrantBeyondOwn
		}
	}
	return nil
}

// mayActOn checks that the caller (a) may change or remove member m: m's role must hold no
// permission the caller lacks, as for granting (a role with members:write alone cannot demote or
// remove an admin). Owners are checked apart (ErrOwnerOnly).
func mayActOn(ctx context.Context, r OrgReader, a *OrgAccess, m *Membership) error {
	if m.Role == OrgRoleOwner {
		return nil
	}
	perms, err := rolePermissions(ctx, r, a.Org.ID, m.Role)
	if err != nil {
		return err
	}
	return holdsAll(a, perms)
}

// SetMemberRole gives a member another role (members:write). Only owners touch owners or make
// owners (ownership moves by making another member owner; the former owner may then step down);
// the last owner cannot be demoted. The member's tokens that carry the old role stop working at
// once: the next refresh carries the new one.
func (o *OrgService) SetMemberRole(ctx context.Context, p *Principal, orgID, userID, role string) (*Membership, error) {
	if role == "" {
		return nil, Invalid(FieldError{Field: "role", Message: "role is required."})
	}
	var out *Membership
	var sessions []string
	err := o.change(ctx, p, "changing an organization role", func(tx StoreTx) error {
		a, err := o.access(ctx, tx, p, orgID, PermMembersWrite)
		if err != nil {
			return err
		}
		ok, err := roleExists(ctx, tx, orgID, role)
		if err != nil {
			return err
		} else if !ok {
			return Invalid(FieldError{Field: "role", Message: "role must be owner, admin, member or one of the organization's roles."})
		}
		m, err := tx.MembershipOf(ctx, orgID, userID)
		if isNotFound(err) {
			return ErrMemberNotFound
		} else if err != nil {
			return err
		}
		if m.Role == OrgRoleOwner && a.Role != OrgRoleOwner {
			return ErrOwnerOnly
		}
		if err := mayActOn(ctx, tx, a, m); err != nil {
			return err
		}
		if err := mayGrant(ctx, tx, a, role); err != nil {
			return err
		}
		out = m
		if m.Role == role {
			return nil
		}
		if m.Role == OrgRoleOwner {
			if n, err := tx.CountMembersWithRole(ctx, orgID, OrgRoleOwner); err != nil {
				return err
			} else if n <= 1 {
				return ErrLastOwner
			}
		}
		now := o.auth.now()
		if err := tx.SetMemberRole(ctx, orgID, userID, role, now); err != nil {
			return err
		}
		if sessions, err = tx.SetMemberSessionsOrgRole(ctx, orgID, userID, role); err != nil {
			return err
		}
		old := m.Role
		m.Role, m.UpdatedAt = role, now
		return o.auditOrgTx(ctx, tx, p, EventOrgMemberRole, orgID, "user "+userID+": "+old+" -> "+role)
	})
	if err != nil {
		return nil, err
	}
	o.auth.cache.invalidateSessions(sessions...)
	return out, nil
}

// RemoveMember removes a member (members:write), or the caller (leaving, which any member may).
// Only owners remove owners; the last owner can neither leave nor be removed. The member's
// sessions lose the organization at once: tokens that carry it stop working.
func (o *OrgService) RemoveMember(ctx context.Context, p *Principal, orgID, userID string) error {
	var sessions []string
	err := o.change(ctx, p, "removing an organization member", func(tx StoreTx) error {
		leaving := p != nil && p.User != nil && userID == p.User.ID
		perm := PermMembersWrite
		if leaving {
			perm = ""
		}
		a, err := o.access(ctx, tx, p, orgID, perm)
		if err != nil {
			return err
		}
		m, err := tx.MembershipOf(ctx, orgID, userID)
		if isNotFound(err) {
			return ErrMemberNotFound
		} else if err != nil {
			return err
		}
		if m.Role == OrgRoleOwner {
			if !leaving && a.Role != OrgRoleOwner {
				return ErrOwnerOnly
			}
			if n, err := tx.CountMembersWithRole(ctx, orgID, OrgRoleOwner); err != nil {
				return err
			} else if n <= 1 {
				return ErrLastOwner
			}
		}
		if !leaving {
			if err := mayActOn(ctx, tx, a, m); err != nil {
				return err
			}
		}
		if err := tx.RemoveMember(ctx, orgID, userID); err != nil {
			return err
		}
		if sessions, err = tx.SetMemberSessionsOrgRole(ctx, orgID, userID, ""); err != nil {
			return err
		}
		detail := "user " + userID + " (" + m.Role + ") removed"
		if leaving {
			detail = "user " + userID + " (" + m.Role + ") left"
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgMemberRemoved, orgID, detail)
	})
	if err != nil {
		return err
	}
	o.auth.cache.invalidateSessions(sessions...)
	return nil
}

var roleNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func validRoleName(name string) bool { return roleNamePattern.MatchString(name) }

// cleanPermissions validates a role's permissions and returns them deduplicated, in the order
// of AllOrgPermissions.
func cleanPermissions(perms []string) ([]string, error) {
	var fields []FieldError
	for _, perm := range perms {
		if !slices.Contains(AllOrgPermissions, perm) {
			fields = append(fields, FieldError{Field: "permissions", Message: "Unknown permission " + quoteShort(perm) + "."})
		}
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	out := []string{}
	for _, perm := range AllOrgPermissions {
		if slices.Contains(perms, perm) {
			out = append(out, perm)
		}
	}
	return out, nil
}

// ListRoles returns the built-in roles and the organization's own (org:read).
func (o *OrgService) ListRoles(ctx context.Context, p *Principal, orgID string) ([]*OrgRole, error) {
	if _, err := o.access(ctx, nil, p, orgID, PermOrgRead); err != nil {
		return nil, err
	}
	custom, err := o.auth.store.ListOrgRoles(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]*OrgRole, 0, 3+len(custom))
	for _, name := range []string{OrgRoleOwner, OrgRoleAdmin, OrgRoleMember} {
		out = append(out, &OrgRole{OrgID: orgID, Name: name, Permissions: BuiltinOrgRolePermissions(name)})
	}
	return append(out, custom...), nil
}

// CreateRole adds a custom role (roles:write) with permissions the caller holds.
func (o *OrgService) CreateRole(ctx context.Context, p *Principal, orgID, name string, perms []string) (*OrgRole, error) {
	if !validRoleName(name) || BuiltinOrgRole(name) {
		return nil, Invalid(FieldError{Field: "name", Message: "name must be 1 to 40 lowercase letters, digits, '-' or '_', and not owner, admin or member."})
	}
	clean, err := cleanPermissions(perms)
	if err != nil {
		return nil, err
	}
	now := o.auth.now()
	r := &OrgRole{OrgID: orgID, Name: name, Permissions: clean, CreatedAt: now, UpdatedAt: now}
	err = o.change(ctx, p, "creating an organization role", func(tx StoreTx) error {
		a, err := o.access(ctx, tx, p, orgID, PermRolesWrite)
		if err != nil {
			return err
		}
		if err := holdsAll(a, clean); err != nil {
			return err
		}
		if err := tx.CreateOrgRole(ctx, r); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgRoleCreated, orgID, "role "+name+": "+strings.Join(clean, " "))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func holdsAll(a *OrgAccess, perms []string) error {
	for _, perm := range perms {
		if !a.Can(perm) {
			return errGrantBeyondOwn
		}
	}
	return nil
}

// UpdateRole replaces a custom role's permissions (roles:write); the caller must hold both the
// old and the new ones. Tokens already issued keep the permissions they carry until they are
// refreshed (at most the access-token lifetime); every check of the API reads the role afresh.
func (o *OrgService) UpdateRole(ctx context.Context, p *Principal, orgID, name string, perms []string) (*OrgRole, error) {
	clean, err := cleanPermissions(perms)
	if err != nil {
		return nil, err
	}
	var out *OrgRole
	err = o.change(ctx, p, "changing an organization role", func(tx StoreTx) error {
		a, r, err := o.editableRoleTx(ctx, tx, p, orgID, name)
		if err != nil {
			return err
		}
		if err := holdsAll(a, clean); err != nil {
			return err
		}
		r.Permissions, r.UpdatedAt = clean, o.auth.now()
		if err := tx.UpdateOrgRole(ctx, r); err != nil {
			return err
		}
		out = r
		return o.auditOrgTx(ctx, tx, p, EventOrgRoleUpdated, orgID, "role "+name+": "+strings.Join(clean, " "))
	})
	return out, err
}

// editableRoleTx finds the custom role name of orgID that p may change (roles:write, and every
// permission the role holds): built-in roles are refused, unknown names are ErrOrgRoleNotFound.
func (o *OrgService) editableRoleTx(ctx context.Context, tx StoreTx, p *Principal, orgID, name string) (*OrgAccess, *OrgRole, error) {
	a, err := o.access(ctx, tx, p, orgID, PermRolesWrite)
	if err != nil {
		return nil, nil, err
	}
	if BuiltinOrgRole(name) {
		return nil, nil, Errorf(KindForbidden, "builtin_role", "The built-in roles cannot be changed.")
	}
	if !validRoleName(name) {
		return nil, nil, ErrOrgRoleNotFound
	}
	r, err := tx.OrgRoleByName(ctx, orgID, name)
	if isNotFound(err) {
		return nil, nil, ErrOrgRoleNotFound
	} else if err != nil {
		return nil, nil, err
	}
	if err := holdsAll(a, r.Permissions); err != nil {
		return nil, nil, err
	}
	return a, r, nil
}

// DeleteRole deletes a custom role (roles:write) that no member or pending invitation holds.
func (o *OrgService) DeleteRole(ctx context.Context, p *Principal, orgID, name string) error {
	return o.change(ctx, p, "deleting an organization role", func(tx StoreTx) error {
		if _, _, err := o.editableRoleTx(ctx, tx, p, orgID, name); err != nil {
			return err
		}
		if n, err := tx.CountMembersWithRole(ctx, orgID, name); err != nil {
			return err
		} else if n > 0 {
			return ErrOrgRoleInUse
		}
		pending, err := tx.ListPendingInvitations(ctx, orgID, o.auth.now())
		if err != nil {
			return err
		}
		for _, inv := range pending {
			if inv.Role == name {
				return ErrOrgRoleInUse
			}
		}
		if err := tx.DeleteOrgRole(ctx, orgID, name); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgRoleDeleted, orgID, "role "+name)
	})
}

// sessionOrgPermissions are the permissions an access token of sess carries: those of the
// session's role in its active organization (none without one).
func sessionOrgPermissions(ctx context.Context, r OrgReader, sess *Session) ([]string, error) {
	if sess.OrgID == "" {
		return nil, nil
	}
	return rolePermissions(ctx, r, sess.OrgID, sess.OrgRole)
}

// SwitchActiveOrg makes orgID the caller's session's active organization (orgID "" leaves none)
// and returns a new access token that carries it. The session's earlier access tokens stop
// working: a token's organization must be its session's. An organization the caller is not a
// member of (any more) is refused with ErrNotOrgMember.
func (o *OrgService) SwitchActiveOrg(ctx context.Context, p *Principal, orgID string) (*TokenSet, error) {
	if err := sessionOnly(p); err != nil {
		return nil, err
	}
	if err := validOrgIDInput(orgID); err != nil {
		return nil, err
	}
	var u *User
	var sess *Session
	err := o.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		if u, err = o.auth.lockCaller(ctx, tx, p); err != nil {
			return err
		}
		if sess, err = tx.LockSession(ctx, p.SessionID); err != nil {
			return notFoundAsUnauthenticated(err)
		}
		return o.activateTx(ctx, tx, p.Client, u, sess, orgID)
	})
	if err != nil {
		return nil, err
	}
	o.auth.cache.invalidateSessions(sess.ID)
	return o.auth.issue(ctx, u, sess, "")
}

// activateTx sets sess's active organization to orgID (checking u's membership) in tx, and
// updates sess to match.
func (o *OrgService) activateTx(ctx context.Context, tx StoreTx, c Client, u *User, sess *Session, orgID string) error {
	role := ""
	if orgID != "" {
		m, err := tx.MembershipOf(ctx, orgID, u.ID)
		if isNotFound(err) {
			return ErrNotOrgMember
		} else if err != nil {
			return err
		}
		role = m.Role
	}
	if err := tx.SetSessionOrg(ctx, sess.ID, orgID, role); err != nil {
		return err
	}
	sess.OrgID, sess.OrgRole = orgID, role
	e := o.auth.newAuditEvent(c, EventOrgSwitched, u.ID, OutcomeSuccess, "session "+sess.ID)
	e.OrgID = orgID
	return tx.AppendAuditEvent(ctx, e)
}

// LoginInOrg is a password login whose session starts with orgID active. A user who is not a
// member of orgID is refused (ErrNotOrgMember) and the session the login started is revoked
// at once, so the refusal leaves nothing usable behind.
func (o *OrgService) LoginInOrg(ctx context.Context, email, password, orgID string, client Client) (*TokenSet, error) {
	if err := validOrgIDInput(orgID); err != nil {
		return nil, err
	}
	ts, err := o.auth.Login(ctx, email, password, client)
	if err != nil || orgID == "" {
		return ts, err
	}
	var sess *Session
	refused := false
	err = o.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		if sess, err = tx.LockSession(ctx, ts.SessionID); err != nil {
			return err
		}
		err = o.activateTx(ctx, tx, client, ts.User, sess, orgID)
		if err == ErrNotOrgMember {
			refused = true
			return tx.RevokeSession(ctx, sess.ID, o.auth.now())
		}
		return err
	})
	if err != nil {
		// The session the login started must not outlive the refusal (its tokens were never
		// handed out, but it would show among the user's sessions).
		if rerr := o.auth.tx(ctx, func(tx StoreTx) error { return tx.RevokeSession(ctx, ts.SessionID, o.auth.now()) }); rerr != nil {
			o.auth.log.WarnContext(ctx, "could not revoke the session of a refused login", "session_id", ts.SessionID, "error", rerr)
		}
		o.auth.cache.invalidateSessions(ts.SessionID)
		return nil, err
	}
	o.auth.cache.invalidateSessions(ts.SessionID)
	if refused {
		return nil, ErrNotOrgMember
	}
	o.auth.rememberSwitched(ts.RefreshToken)
	return o.auth.issue(ctx, ts.User, sess, ts.RefreshToken)
}

// validOrgIDInput refuses an org_id that no organization can have, before any work is done.
func validOrgIDInput(orgID string) error {
	if len(orgID) > 64 || !utf8.ValidString(orgID) || hasInvisible(orgID) {
		return Invalid(FieldError{Field: "org_id", Message: "org_id is not an organization id."})
	}
	return nil
}

// RefreshInOrg is Refresh that also makes orgID the session's active organization. Membership
// is checked before the token is spent, and again as the organization is set; a refusal in
// between (a removal that committed meanwhile) leaves the token spent, and a retry with it
// within the reuse interval gets the same successor, as for any lost answer.
func (o *OrgService) RefreshInOrg(ctx context.Context, token, orgID string, client Client) (*TokenSet, error) {
	if err := validOrgIDInput(orgID); err != nil {
		return nil, err
	}
	if orgID == "" {
		return o.auth.Refresh(ctx, token, client)
	}
	if token != "" && len(token) <= maxRefreshTokenLength {
		if _, _, u, err := o.auth.store.RefreshTokenSession(ctx, HashToken(token)); err == nil {
			if _, err := o.auth.store.MembershipOf(ctx, orgID, u.ID); isNotFound(err) {
				return nil, ErrNotOrgMember
			} else if err != nil {
				return nil, err
			}
		}
	}
	ts, err := o.auth.Refresh(ctx, token, client)
	if err != nil {
		return nil, err
	}
	var sess *Session
	err = o.auth.tx(ctx, func(tx StoreTx) error {
		var err error
		if sess, err = tx.LockSession(ctx, ts.SessionID); err != nil {
			return err
		}
		if !sessionUsable(sess, ts.User, o.auth.now()) {
			return ErrInvalidRefreshToken
		}
		return o.activateTx(ctx, tx, client, ts.User, sess, orgID)
	})
	if err != nil {
		return nil, err
	}
	o.auth.cache.invalidateSessions(ts.SessionID)
	o.auth.rememberSwitched(ts.RefreshToken)
	return o.auth.issue(ctx, ts.User, sess, ts.RefreshToken)
}

// rememberSwitched drops the rotation cache's snapshot of a token whose session was switched to
// another organization after the token was remembered (by the login's or the refresh's issue),
// so that the issue that hands it out remembers the session as committed: a snapshot naming the
// old organization would fail every guarded write and cost the next refresh a read.
func (s *AuthService) rememberSwitched(refresh string) {
	s.rotations.forget(HashToken(refresh))
}

// autoJoinTx makes the user whose address email has just been verified a member of every
// organization whose verified auto-join domain is the address's domain (GATEHOUSE_ORG_AUTO_JOIN),
// in the transaction of the verification.
func (s *AuthService) autoJoinTx(ctx context.Context, tx StoreTx, c Client, userID, email string, now time.Time) error {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return nil
	}
	orgs, err := tx.OrgsByAutoJoinDomain(ctx, email[at+1:])
	if err != nil {
		return err
	}
	for _, org := range orgs {
		if _, err := tx.LockOrg(ctx, org.ID); isNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		if _, err := tx.MembershipOf(ctx, org.ID, userID); err == nil {
			continue
		} else if !isNotFound(err) {
			return err
		}
		if err := tx.AddMember(ctx, &Membership{OrgID: org.ID, UserID: userID, Role: OrgRoleMember, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		e := s.newAuditEvent(c, EventOrgMemberAdded, userID, OutcomeSuccess, "user "+userID+" as member (auto-join by verified domain)")
		e.OrgID = org.ID
		if err := tx.AppendAuditEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

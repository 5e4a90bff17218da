package gatehouse

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Organizations (docs/organizations.md): an organization has members, each with one role; a
// role is a named set of permissions. The built-in roles are owner, admin and member; an
// organization may define its own roles from the same permissions.

// Organization permissions.
const (
	PermOrgRead          = "org:read"
	PermOrgUpdate        = "org:update"
	PermOrgDelete        = "org:delete"
	PermMembersRead      = "members:read"
	PermMembersWrite     = "members:write"
	PermInvitationsWrite = "invitations:write"
	PermRolesWrite       = "roles:write"
	PermKeysRead         = "keys:read"
	PermKeysWrite        = "keys:write"
	PermCreditsRead      = "credits:read"
	PermCreditsWrite     = "credits:write"
	PermAuditRead        = "audit:read"
)

// AllOrgPermissions lists every organization permission, in a stable order.
var AllOrgPermissions = []string{PermOrgRead, PermOrgUpdate, PermOrgDelete, PermMembersRead, PermMembersWrite,
	PermInvitationsWrite, PermRolesWrite, PermKeysRead, PermKeysWrite, PermCreditsRead, PermCreditsWrite, PermAuditRead}

// Built-in organization roles.
const (
	OrgRoleOwner  = "owner"
	OrgRoleAdmin  = "admin"
	OrgRoleMember = "member"
)

// builtinOrgRoles are the fixed permission sets of the built-in roles. Owners hold everything;
// admins everything but deleting the organization (and they cannot touch owners); members read.
var builtinOrgRoles = map[string][]string{
	OrgRoleOwner:  AllOrgPermissions,
	OrgRoleAdmin:  slices.DeleteFunc(slices.Clone(AllOrgPermissions), func(p string) bool { return p == PermOrgDelete }),
	OrgRoleMember: {PermOrgRead, PermMembersRead, PermCreditsRead},
}

// BuiltinOrgRole reports whether name is owner, admin or member.
func BuiltinOrgRole(name string) bool { _, ok := builtinOrgRoles[name]; return ok }

// BuiltinOrgRolePermissions returns the permissions of a built-in role, nil for any other name.
func BuiltinOrgRolePermissions(name string) []string { return slices.Clone(builtinOrgRoles[name]) }

// Org is an organization. Slug is unique, lowercase [a-z0-9-], 3 to 63 characters.
type Org struct {
	ID        string
	Name      string
	Slug      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// AutoJoinDomain, when set (by a Gatehouse admin, who verified the domain), makes users whose
	// address at that domain gets verified join as members, if GATEHOUSE_ORG_AUTO_JOIN is on.
	AutoJoinDomain string
}

// Membership is a user's place in an organization. Email and Name are the user's, for listings.
type Membership struct {
	OrgID     string
	UserID    string
	Role      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Email     string
	Name      string
}

// OrgMembership is one of a user's organizations with the user's role in it.
type OrgMembership struct {
	Org  Org
	Role string
}

// OrgSummary is an organization as Gatehouse admins list it: the organization and its number of
// members.
type OrgSummary struct {
	Org     Org
	Members int
}

// OrgRole is a custom role of an organization: a name and a subset of AllOrgPermissions.
type OrgRole struct {
	OrgID       string
	Name        string
	Permissions []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// OrgReader reads organizations, memberships, roles, invitations, organization keys and credits.
type OrgReader interface {
	OrgByID(ctx context.Context, id string) (*Org, error)
	// ListOrgsOf returns the organizations the user is a member of, by name.
	ListOrgsOf(ctx context.Context, userID string) ([]*OrgMembership, error)
	// ListAllOrgs returns up to limit organizations, newest first, with their member counts
	// (Gatehouse admins' list).
	ListAllOrgs(ctx context.Context, limit int) ([]*OrgSummary, error)
	// OrgsByAutoJoinDomain returns the organizations whose auto-join domain is domain.
	OrgsByAutoJoinDomain(ctx context.Context, domain string) ([]*Org, error)
	MembershipOf(ctx context.Context, orgID, userID string) (*Membership, error)
	// ListMembers returns the organization's members, oldest first, with their email and name.
	ListMembers(ctx context.Context, orgID string) ([]*Membership, error)
	OrgRoleByName(ctx context.Context, orgID, name string) (*OrgRole, error)
	ListOrgRoles(ctx context.Context, orgID string) ([]*OrgRole, error)
	InvitationByID(ctx context.Context, id string) (*Invitation, error)
	InvitationByHash(ctx context.Context, hash []byte) (*Invitation, error)
	// ListPendingInvitations returns the invitations neither accepted, revoked nor expired at now.
	ListPendingInvitations(ctx context.Context, orgID string, now time.Time) ([]*Invitation, error)
	// ListOrgAPIKeys returns the organization's live keys, newest first.
	ListOrgAPIKeys(ctx context.Context, orgID string) ([]*APIKey, error)
	// OrgCreditAccountOf returns ErrNotFound for an organization that never had credits.
	OrgCreditAccountOf(ctx context.Context, orgID string) (*OrgCreditAccount, error)
}

// OrgWriter writes them. Every membership change of an organization starts with LockOrg, so the
// changes of one organization are serialised (the last-owner rule is checked under that lock).
type OrgWriter interface {
	// CreateOrg inserts o; ErrOrgSlugTaken when its slug is taken.
	CreateOrg(ctx context.Context, o *Org) error
	// LockOrg reads an organization and locks its row until the transaction ends.
	LockOrg(ctx context.Context, id string) (*Org, error)
	// UpdateOrg writes name, slug, auto-join domain and updated_at; ErrOrgSlugTaken as CreateOrg.
	UpdateOrg(ctx context.Context, o *Org) error
	// DeleteOrg deletes the organization and, with it, its members, roles, invitations and credits.
	DeleteOrg(ctx context.Context, id string) error
	// AddMember inserts a membership; ErrAlreadyMember when the user is one.
	AddMember(ctx context.Context, m *Membership) error
	SetMemberRole(ctx context.Context, orgID, userID, role string, at time.Time) error
	RemoveMember(ctx context.Context, orgID, userID string) error
	// CountMembersWithRole counts the members of the organization who hold role.
	CountMembersWithRole(ctx context.Context, orgID, role string) (int, error)
	// CreateOrgRole inserts r; ErrOrgRoleExists when the name is taken.
	CreateOrgRole(ctx context.Context, r *OrgRole) error
	UpdateOrgRole(ctx context.Context, r *OrgRole) error
	DeleteOrgRole(ctx context.Context, orgID, name string) error
	// CreateInvitation inserts inv; ErrInvitationPending when the address has a pending one.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// RetireExpiredInvitations marks the address's expired pending invitations revoked, so a
	// new one can be made.
	RetireExpiredInvitations(ctx context.Context, orgID, email string, now time.Time) error
	// AcceptInvitation marks a pending, unexpired invitation accepted by userID in one
	// conditional statement; ErrNotFound, with nothing written, when it is no longer pending.
	AcceptInvitation(ctx context.Context, id, userID string, now time.Time) error
	// RevokeInvitation marks a pending invitation revoked; ErrNotFound when it is not pending.
	RevokeInvitation(ctx context.Context, id string, now time.Time) error
	// SetSessionOrg makes orgID (with the user's role in it) the session's active organization;
	// empty strings clear it.
	SetSessionOrg(ctx context.Context, sessionID, orgID, role string) error
	// SetMemberSessionsOrgRole rewrites the role of the user's sessions active in orgID (role ""
	// clears their organization) and returns their IDs.
	SetMemberSessionsOrgRole(ctx context.Context, orgID, userID, role string) ([]string, error)
	// ClearOrgSessions clears the organization from every session active in it and returns their IDs.
	ClearOrgSessions(ctx context.Context, orgID string) ([]string, error)
	// DeleteOrgAPIKeys deletes the organization's keys, revoking the sessions exchanged from
	// them, and returns the IDs of those sessions.
	DeleteOrgAPIKeys(ctx context.Context, orgID string, at time.Time) ([]string, error)
	EnsureOrgCreditAccount(ctx context.Context, a *OrgCreditAccount) error
	GrantOrgCredits(ctx context.Context, orgID string, amount int64, at time.Time) error
	// UseOrgCredits adds amount to the used count unless that would exceed the total, in one
	// conditional statement; ok is false then, and nothing changes.
	UseOrgCredits(ctx context.Context, orgID string, amount int64, at time.Time) (ok bool, err error)
	AddOrgCreditEntry(ctx context.Context, e *OrgCreditEntry) error
}

// Errors of the organization rules.
var (
	ErrOrgSlugTaken      = &Error{Kind: KindConflict, Code: "org_slug_taken", Message: "This slug is already taken."}
	ErrAlreadyMember     = &Error{Kind: KindConflict, Code: "already_member", Message: "This user is already a member of the organization."}
	ErrOrgRoleExists     = &Error{Kind: KindConflict, Code: "org_role_exists", Message: "A role with this name already exists."}
	ErrOrgRoleInUse      = &Error{Kind: KindConflict, Code: "org_role_in_use", Message: "Members or pending invitations hold this role; give them another first."}
	ErrLastOwner         = &Error{Kind: KindConflict, Code: "last_owner", Message: "An organization keeps at least one owner: make another member owner first."}
	ErrOrgNotFound       = &Error{Kind: KindNotFound, Code: "org_not_found", Message: "No such organization, or you are not a member of it."}
	ErrMemberNotFound    = &Error{Kind: KindNotFound, Code: "member_not_found", Message: "No such member."}
	ErrOrgRoleNotFound   = &Error{Kind: KindNotFound, Code: "org_role_not_found", Message: "No such role."}
	ErrNotOrgMember      = &Error{Kind: KindForbidden, Code: "not_org_member", Message: "You are not a member of this organization."}
	ErrOrgSessionOnly    = &Error{Kind: KindForbidden, Code: "org_session_required", Message: "Organizations are managed from a signed-in session, not with an API key or an app's token."}
	ErrOwnerOnly         = &Error{Kind: KindForbidden, Code: "owner_required", Message: "Only an owner can do this to an owner or grant ownership."}
	errPermissionMissing = func(perm string) *Error {
		return &Error{Kind: KindForbidden, Code: "org_permission_denied", Message: "Your role in this organization lacks the permission " + perm + "."}
	}
	errGrantBeyondOwn = &Error{Kind: KindForbidden, Code: "org_permission_denied", Message: "You cannot grant permissions you do not hold."}
)

// OrgConfig holds the organization rules' switches.
type OrgConfig struct {
	// AutoJoin turns on verified-domain auto-join (GATEHOUSE_ORG_AUTO_JOIN); off by default.
	AutoJoin bool
	// InvitationTTL is how long an invitation works; 7 days by default.
	InvitationTTL time.Duration
	// InvitationsPerOrg limits the invitations an organization sends.
	InvitationsPerOrg RateRule
}

// DefaultOrgConfig: invitations last 7 days, 50 invitations per organization per hour.
var DefaultOrgConfig = OrgConfig{
	InvitationTTL:     7 * 24 * time.Hour,
	InvitationsPerOrg: RateRule{Name: "org_invitations", Limit: 50, Window: time.Hour},
}

// OrgService holds the rules of organizations, memberships, roles, invitations, organization keys
// and credits. It uses AuthService's core (transactions, audit, caller locks, caches, email).
type OrgService struct {
	auth *AuthService
	cfg  OrgConfig
}

// NewOrgService builds the organization rules on an AuthService.
func NewOrgService(auth *AuthService, cfg OrgConfig) *OrgService {
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = DefaultOrgConfig.InvitationTTL
	}
	if cfg.InvitationsPerOrg.Name == "" {
		cfg.InvitationsPerOrg = DefaultOrgConfig.InvitationsPerOrg
	}
	return &OrgService{auth: auth, cfg: cfg}
}

// Audit event types of organizations; each event names its organization.
const (
	EventOrgCreated         = "org.created"
	EventOrgUpdated         = "org.updated"
	EventOrgDeleted         = "org.deleted"
	EventOrgMemberAdded     = "org.member_added"
	EventOrgMemberRole      = "org.member_role_changed"
	EventOrgMemberRemoved   = "org.member_removed"
	EventOrgRoleCreated     = "org.role_created"
	EventOrgRoleUpdated     = "org.role_updated"
	EventOrgRoleDeleted     = "org.role_deleted"
	EventOrgInvited         = "org.invitation_created"
	EventOrgInviteRevoked   = "org.invitation_revoked"
	EventOrgInviteAccepted  = "org.invitation_accepted"
	EventOrgKeyCreated      = "org.api_key_created"
	EventOrgKeyRevoked      = "org.api_key_revoked"
	EventOrgCreditsGranted  = "org.credits_granted"
	EventOrgSwitched        = "org.switched"
	auditDetailOrgMaxLength = 400
)

// auditOrgTx records an event about organization orgID, in the transaction of the change.
func (o *OrgService) auditOrgTx(ctx context.Context, tx StoreTx, p *Principal, typ, orgID, detail string) error {
	userID := ""
	c := Operator.Client
	if p != nil {
		c = p.Client
		if p.User != nil {
			userID = p.User.ID
		}
	}
	e := o.auth.newAuditEvent(c, typ, userID, OutcomeSuccess, cleanText(detail, auditDetailOrgMaxLength))
	e.OrgID = orgID
	if err := tx.AppendAuditEvent(ctx, e); err != nil {
		return err
	}
	o.auth.observe(typ, OutcomeSuccess)
	return nil
}

// change runs, in one transaction, a change a member makes to organizations (not switching the
// active organization, which an impersonation session may do; not the Gatehouse admins' and the
// organization keys' writes, which no impersonation session reaches). An impersonation session's
// change is refused and audited (forbidImpersonated) before the transaction starts: the refusal's audit event is written on its own, and must not be rolled
// back with the refused change. action names the change for the audit log.
func (o *OrgService) change(ctx context.Context, p *Principal, action string, fn func(StoreTx) error) error {
	if err := o.auth.forbidImpersonated(ctx, p, action); err != nil {
		return err
	}
	return o.auth.tx(ctx, fn)
}

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$`)

// ValidOrgSlug reports whether s is a well-formed slug: lowercase [a-z0-9-], 3 to 63
// characters, neither starting nor ending with a hyphen.
func ValidOrgSlug(s string) bool { return slugPattern.MatchString(s) }

// validateLabelName checks the name of an organization or an API key (trimmed by the caller):
// required, at most 100 characters, none of them invisible.
func validateLabelName(name string) *FieldError {
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return &FieldError{Field: "name", Message: "Name is required and must be at most 100 characters."}
	}
	if hasInvisible(name) {
		return &FieldError{Field: "name", Message: "Name must not contain control, format or other invisible characters."}
	}
	return nil
}

func validateSlug(slug string) *FieldError {
	if !ValidOrgSlug(slug) {
		return &FieldError{Field: "slug", Message: "Slug must be 3 to 63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."}
	}
	return nil
}

// sessionOnly refuses API keys and OAuth clients' tokens: organizations are managed by people.
func sessionOnly(p *Principal) error {
	// A delegated token (act without an impersonation) is refused; an impersonation session may
	// read and switch, and every change refuses it (change).
	if p == nil || p.User == nil || p.APIKey != nil || p.SessionID == "" || p.ClientID != "" || (p.Act != nil && p.Impersonator == "") {
		return ErrOrgSessionOnly
	}
	return nil
}

// OrgInput is what an organization is created or updated with; nil fields are left unchanged.
type OrgInput struct {
	Name *string
	Slug *string
}

// CreateOrg creates an organization whose owner is the caller.
func (o *OrgService) CreateOrg(ctx context.Context, p *Principal, in OrgInput) (*Org, error) {
	if err := sessionOnly(p); err != nil {
		return nil, err
	}
	var name, slug string
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
	}
	if in.Slug != nil {
		slug = *in.Slug
	}
	var fields []FieldError
	if f := validateLabelName(name); f != nil {
		fields = append(fields, *f)
	}
	if f := validateSlug(slug); f != nil {
		fields = append(fields, *f)
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	now := o.auth.now()
	org := &Org{ID: NewID(), Name: name, Slug: slug, CreatedAt: now, UpdatedAt: now}
	err := o.change(ctx, p, "creating an organization", func(tx StoreTx) error {
		if _, err := o.auth.lockCaller(ctx, tx, p); err != nil {
			return err
		}
		if err := tx.CreateOrg(ctx, org); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, &Membership{OrgID: org.ID, UserID: p.User.ID, Role: OrgRoleOwner, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgCreated, org.ID, "slug "+org.Slug)
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// ListOrgs returns the caller's organizations with the caller's role in each.
func (o *OrgService) ListOrgs(ctx context.Context, p *Principal) ([]*OrgMembership, error) {
	if err := sessionOnly(p); err != nil {
		return nil, err
	}
	return o.auth.store.ListOrgsOf(ctx, p.User.ID)
}

// OrgAccess is the caller's standing in an organization: the organization, the caller's role and
// what that role permits.
type OrgAccess struct {
	Org         *Org
	Role        string
	Permissions []string
}

// Can reports whether the role permits perm.
func (a *OrgAccess) Can(perm string) bool { return slices.Contains(a.Permissions, perm) }

// rolePermissions returns the permissions of a role of the organization: a built-in role's fixed
// set or a custom role's stored one.
func rolePermissions(ctx context.Context, r OrgReader, orgID, role string) ([]string, error) {
	if perms, ok := builtinOrgRoles[role]; ok {
		return slices.Clone(perms), nil
	}
	cr, err := r.OrgRoleByName(ctx, orgID, role)
	if isNotFound(err) {
		return []string{}, nil
	} else if err != nil {
		return nil, err
	}
	return cr.Permissions, nil
}

// access checks that the caller is a member of orgID whose role holds perm ("" for any member).
// An organization the caller is not a member of is ErrOrgNotFound, whether or not it exists. In a
// transaction (tx not nil) the organization's row is locked first.
func (o *OrgService) access(ctx context.Context, tx StoreTx, p *Principal, orgID, perm string) (*OrgAccess, error) {
	if err := sessionOnly(p); err != nil {
		return nil, err
	}
	var r OrgReader = o.auth.store
	var org *Org
	var err error
	if tx != nil {
		if _, err := o.auth.lockCaller(ctx, tx, p); err != nil {
			return nil, err
		}
		r = tx
		org, err = tx.LockOrg(ctx, orgID)
	} else {
		org, err = r.OrgByID(ctx, orgID)
	}
	if isNotFound(err) {
		return nil, ErrOrgNotFound
	} else if err != nil {
		return nil, err
	}
	m, err := r.MembershipOf(ctx, orgID, p.User.ID)
	if isNotFound(err) {
		return nil, ErrOrgNotFound
	} else if err != nil {
		return nil, err
	}
	perms, err := rolePermissions(ctx, r, orgID, m.Role)
	if err != nil {
		return nil, err
	}
	a := &OrgAccess{Org: org, Role: m.Role, Permissions: perms}
	if perm != "" && !a.Can(perm) {
		return nil, errPermissionMissing(perm)
	}
	return a, nil
}

// GetOrg returns an organization of the caller with the caller's standing in it.
func (o *OrgService) GetOrg(ctx context.Context, p *Principal, orgID string) (*OrgAccess, error) {
	return o.access(ctx, nil, p, orgID, PermOrgRead)
}

// UpdateOrg renames an organization or changes its slug (org:update).
func (o *OrgService) UpdateOrg(ctx context.Context, p *Principal, orgID string, in OrgInput) (*Org, error) {
	var fields []FieldError
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		in.Name = &n
		if f := validateLabelName(n); f != nil {
			fields = append(fields, *f)
		}
	}
	if in.Slug != nil {
		if f := validateSlug(*in.Slug); f != nil {
			fields = append(fields, *f)
		}
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	var out *Org
	err := o.change(ctx, p, "changing an organization", func(tx StoreTx) error {
		a, err := o.access(ctx, tx, p, orgID, PermOrgUpdate)
		if err != nil {
			return err
		}
		org := *a.Org
		var changed []string
		if in.Name != nil && *in.Name != org.Name {
			org.Name = *in.Name
			changed = append(changed, "name")
		}
		if in.Slug != nil && *in.Slug != org.Slug {
			org.Slug = *in.Slug
			changed = append(changed, "slug "+org.Slug)
		}
		out = &org
		if len(changed) == 0 {
			return nil
		}
		org.UpdatedAt = o.auth.now()
		if err := tx.UpdateOrg(ctx, &org); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgUpdated, orgID, strings.Join(changed, ", "))
	})
	return out, err
}

// DeleteOrg deletes an organization (owners only, org:delete): in one transaction its keys are
// deleted (and the tokens exchanged from them revoked), its sessions lose it as their active
// organization, and its members, roles, invitations and credits go with it.
func (o *OrgService) DeleteOrg(ctx context.Context, p *Principal, orgID string) error {
	var sessions []string
	err := o.change(ctx, p, "deleting an organization", func(tx StoreTx) error {
		if _, err := o.access(ctx, tx, p, orgID, PermOrgDelete); err != nil {
			return err
		}
		now := o.auth.now()
		exchanged, err := tx.DeleteOrgAPIKeys(ctx, orgID, now)
		if err != nil {
			return err
		}
		cleared, err := tx.ClearOrgSessions(ctx, orgID)
		if err != nil {
			return err
		}
		sessions = append(exchanged, cleared...)
		if err := tx.DeleteOrg(ctx, orgID); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgDeleted, orgID, "")
	})
	if err != nil {
		return err
	}
	o.auth.cache.invalidateKeys()
	o.auth.cache.invalidateSessions(sessions...)
	return nil
}

// SetAutoJoinDomain sets or clears (domain "") the organization's verified auto-join domain. Only
// Gatehouse admins may: they verify that the organization owns the domain.
// AdminListOrgs is every organization, newest first (at most 500), for Gatehouse admins: the
// caller's route or page checks the admin role.
func (o *OrgService) AdminListOrgs(ctx context.Context) ([]*OrgSummary, error) {
	return o.auth.store.ListAllOrgs(ctx, 500)
}

func (o *OrgService) SetAutoJoinDomain(ctx context.Context, by *Principal, orgID, domain string) (*Org, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain != "" && (len(domain) > 253 || !strings.Contains(domain, ".") || ValidateEmail("x@"+domain) != nil) {
		return nil, Invalid(FieldError{Field: "auto_join_domain", Message: "auto_join_domain must be a domain name such as example.com."})
	}
	var out *Org
	err := o.auth.tx(ctx, func(tx StoreTx) error {
		org, err := tx.LockOrg(ctx, orgID)
		if isNotFound(err) {
			return ErrOrgNotFound
		} else if err != nil {
			return err
		}
		org.AutoJoinDomain, org.UpdatedAt = domain, o.auth.now()
		if err := tx.UpdateOrg(ctx, org); err != nil {
			return err
		}
		out = org
		return o.auditOrgTx(ctx, tx, by, EventOrgUpdated, orgID, "auto-join domain "+quoteShort(domain))
	})
	return out, err
}

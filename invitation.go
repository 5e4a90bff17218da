package gatehouse

import (
	"context"
	"time"
)

// Invitation invites an email address into an organization with a role. Its token is sent by
// email through the outbox; only its hash is stored. It works once, for 7 days, unless revoked,
// and only for a signed-in user whose verified address is the invited one.
type Invitation struct {
	ID         string
	OrgID      string
	Email      string
	Role       string
	TokenHash  []byte
	InvitedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	AcceptedBy string
	RevokedAt  *time.Time
}

// Pending reports whether the invitation can still be accepted at now.
func (i *Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// Errors of invitations.
var (
	// ErrInvalidInvitation answers a token that is unknown, used, revoked or expired: a used
	// token is refused, never accepted again.
	ErrInvalidInvitation = &Error{Kind: KindBadRequest, Code: "invalid_invitation", Message: "This invitation is invalid, expired, revoked or already used."}
	ErrInvitationPending = &Error{Kind: KindConflict, Code: "invitation_pending", Message: "This address already has a pending invitation to the organization; revoke it first."}
	// ErrInvitationEmailMismatch: the invitation is for another address, or the caller's address
	// is not verified yet.
	ErrInvitationEmailMismatch = &Error{Kind: KindForbidden, Code: "invitation_email_mismatch",
		Message: "This invitation is for another email address, or your address is not verified yet."}
	ErrInvitationNotFound = &Error{Kind: KindNotFound, Code: "invitation_not_found", Message: "No such pending invitation."}
)

// invitationTokenBytes: 256 bits.
const invitationTokenBytes = 32

// Invite invites email into the organization with role (invitations:write), and queues the email
// that carries the link {APP_URL}/accept-invitation?token=. Only owners invite owners, and nobody
// invites with a role that has a permission they lack. An organization sends at most
// InvitationsPerOrg invitations per window.
func (o *OrgService) Invite(ctx context.Context, p *Principal, orgID, email, role string) (*Invitation, error) {
	if o.auth.email == nil {
		return nil, errEmailDisabled
	}
	email = NormalizeEmail(email)
	var fields []FieldError
	if f := ValidateEmail(email); f != nil {
		fields = append(fields, *f)
	}
	if role == "" {
		role = OrgRoleMember
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	// Authorised before anything is counted against the organization's limit.
	if _, err := o.access(ctx, nil, p, orgID, PermInvitationsWrite); err != nil {
		return nil, err
	}
	ticket, err := o.auth.limiter.Take(ctx, o.cfg.InvitationsPerOrg, orgID)
	if err != nil {
		return nil, err
	}
	now := o.auth.now()
	token := RandomToken(invitationTokenBytes)
	inv := &Invitation{ID: NewID(), OrgID: orgID, Email: email, Role: role, TokenHash: HashToken(token),
		InvitedBy: p.User.ID, CreatedAt: now, ExpiresAt: now.Add(o.cfg.InvitationTTL)}
	err = o.change(ctx, p, "inviting to an organization", func(tx StoreTx) error {
		a, err := o.access(ctx, tx, p, orgID, PermInvitationsWrite)
		if err != nil {
			return err
		}
		ok, err := roleExists(ctx, tx, orgID, role)
		if err != nil {
			return err
		} else if !ok {
			return Invalid(FieldError{Field: "role", Message: "role must be owner, admin, member or one of the organization's roles."})
		}
		if err := mayGrant(ctx, tx, a, role); err != nil {
			return err
		}
		if u, err := tx.UserByEmail(ctx, email); err == nil {
			if _, err := tx.MembershipOf(ctx, orgID, u.ID); err == nil {
				return ErrAlreadyMember
			} else if !isNotFound(err) {
				return err
			}
		} else if !isNotFound(err) {
			return err
		}
		if err := tx.RetireExpiredInvitations(ctx, orgID, email, now); err != nil {
			return err
		}
		if err := tx.CreateInvitation(ctx, inv); err != nil {
			return err
		}
		link := o.auth.email.cfg.AppURL + "/accept-invitation?token={token}"
		if err := o.auth.queueEmail(ctx, tx, EmailInvitation, EmailData{Email: email, Link: link, ExpiresIn: o.cfg.InvitationTTL}, token, now); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgInvited, orgID, "invitation "+inv.ID+" as "+role)
	})
	if err != nil {
		if ErrorKindOf(err) != KindRateLimited {
			o.auth.limiter.Refund(ctx, ticket)
		}
		return nil, err
	}
	o.auth.email.wake()
	return inv, nil
}

// ListInvitations returns the organization's pending invitations (invitations:write).
func (o *OrgService) ListInvitations(ctx context.Context, p *Principal, orgID string) ([]*Invitation, error) {
	if _, err := o.access(ctx, nil, p, orgID, PermInvitationsWrite); err != nil {
		return nil, err
	}
	return o.auth.store.ListPendingInvitations(ctx, orgID, o.auth.now())
}

// RevokeInvitation revokes a pending invitation (invitations:write); its link stops working.
func (o *OrgService) RevokeInvitation(ctx context.Context, p *Principal, orgID, id string) error {
	return o.change(ctx, p, "revoking an invitation", func(tx StoreTx) error {
		a, err := o.access(ctx, tx, p, orgID, PermInvitationsWrite)
		if err != nil {
			return err
		}
		inv, err := tx.InvitationByID(ctx, id)
		if isNotFound(err) || (err == nil && inv.OrgID != orgID) {
			return ErrInvitationNotFound
		} else if err != nil {
			return err
		}
		// Revoking is bounded like inviting: only owners touch owners' invitations, and nobody
		// cancels an invitation to a role with a permission they lack.
		if err := mayGrant(ctx, tx, a, inv.Role); err != nil {
			return err
		}
		if err := tx.RevokeInvitation(ctx, id, o.auth.now()); isNotFound(err) {
			return ErrInvitationNotFound
		} else if err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgInviteRevoked, orgID, "invitation "+id)
	})
}

// AcceptedInvitation is what accepting an invitation made.
type AcceptedInvitation struct {
	Org        *Org
	Membership *Membership
}

// AcceptInvitation makes the caller a member with the invitation's role. The caller's verified
// address must be the invited one; a used, revoked, expired or unknown token is
// ErrInvalidInvitation. Of concurrent accepts of one invitation exactly one succeeds.
func (o *OrgService) AcceptInvitation(ctx context.Context, p *Principal, token string) (*AcceptedInvitation, error) {
	if err := sessionOnly(p); err != nil {
		return nil, err
	}
	if token == "" || len(token) > 128 {
		return nil, ErrInvalidInvitation
	}
	hash := HashToken(token)
	var out AcceptedInvitation
	err := o.change(ctx, p, "accepting an invitation", func(tx StoreTx) error {
		u, err := o.auth.lockCaller(ctx, tx, p)
		if err != nil {
			return err
		}
		inv, err := tx.InvitationByHash(ctx, hash)
		if isNotFound(err) {
			return ErrInvalidInvitation
		} else if err != nil {
			return err
		}
		org, err := tx.LockOrg(ctx, inv.OrgID)
		if isNotFound(err) {
			return ErrInvalidInvitation
		} else if err != nil {
			return err
		}
		now := o.auth.now()
		// Read again under the organization's lock: a concurrent accept has committed by now.
		if inv, err = tx.InvitationByHash(ctx, hash); err != nil {
			return notFoundAs(err, ErrInvalidInvitation)
		}
		if !inv.Pending(now) {
			return ErrInvalidInvitation
		}
		if !u.EmailVerified || u.Email != inv.Email {
			return ErrInvitationEmailMismatch
		}
		if _, err := tx.MembershipOf(ctx, inv.OrgID, u.ID); err == nil {
			return ErrAlreadyMember
		} else if !isNotFound(err) {
			return err
		}
		if err := tx.AcceptInvitation(ctx, inv.ID, u.ID, now); err != nil {
			return notFoundAs(err, ErrInvalidInvitation)
		}
		m := &Membership{OrgID: inv.OrgID, UserID: u.ID, Role: inv.Role, CreatedAt: now, UpdatedAt: now, Email: u.Email, Name: u.Name}
		if err := tx.AddMember(ctx, m); err != nil {
			return err
		}
		out = AcceptedInvitation{Org: org, Membership: m}
		if err := o.auditOrgTx(ctx, tx, p, EventOrgInviteAccepted, inv.OrgID, "invitation "+inv.ID); err != nil {
			return err
		}
		return o.auditOrgTx(ctx, tx, p, EventOrgMemberAdded, inv.OrgID, "user "+u.ID+" as "+inv.Role)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// InvitationPreview is what the accept page shows before the user accepts.
type InvitationPreview struct {
	OrgName string
	OrgSlug string
	Email   string
	Role    string
}

// PreviewInvitation describes a pending invitation from its token, for the accept page.
func (o *OrgService) PreviewInvitation(ctx context.Context, token string) (*InvitationPreview, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrInvalidInvitation
	}
	inv, err := o.auth.store.InvitationByHash(ctx, HashToken(token))
	if err != nil {
		return nil, notFoundAs(err, ErrInvalidInvitation)
	}
	if !inv.Pending(o.auth.now()) {
		return nil, ErrInvalidInvitation
	}
	org, err := o.auth.store.OrgByID(ctx, inv.OrgID)
	if err != nil {
		return nil, notFoundAs(err, ErrInvalidInvitation)
	}
	return &InvitationPreview{OrgName: org.Name, OrgSlug: org.Slug, Email: inv.Email, Role: inv.Role}, nil
}

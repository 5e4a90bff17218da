package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Organizations: orgs, org_members, org_roles, org_invitations, org_credit_accounts and
// org_credit_entries (migrations 0014_orgs.sql), and the org_id columns of sessions, api_keys
// and audit_events.

const orgColumns = `id, name, slug, auto_join_domain, created_at, updated_at`

func scanOrg(row rowScanner) (*gatehouse.Org, error) {
	var o gatehouse.Org
	var created, updated int64
	if err := row.Scan(&o.ID, &o.Name, &o.Slug, &o.AutoJoinDomain, &created, &updated); err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &o, nil
}

func (r reader) OrgByID(ctx context.Context, id string) (*gatehouse.Org, error) {
	o, err := scanOrg(r.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`, id))
	return o, r.s.mapErr(err)
}

func (r reader) ListOrgsOf(ctx context.Context, userID string) ([]*gatehouse.OrgMembership, error) {
	return queryAll(ctx, r, func(row rowScanner) (*gatehouse.OrgMembership, error) {
		var m gatehouse.OrgMembership
		var created, updated int64
		err := row.Scan(&m.Org.ID, &m.Org.Name, &m.Org.Slug, &m.Org.AutoJoinDomain, &created, &updated, &m.Role)
		m.Org.CreatedAt, m.Org.UpdatedAt = fromMicros(created), fromMicros(updated)
		return &m, err
	}, `SELECT o.id, o.name, o.slug, o.auto_join_domain, o.created_at, o.updated_at, m.role
		FROM org_members m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name, o.id`, userID)
}

func (r reader) ListAllOrgs(ctx context.Context, limit int) ([]*gatehouse.OrgSummary, error) {
	return queryAll(ctx, r, func(row rowScanner) (*gatehouse.OrgSummary, error) {
		var o gatehouse.OrgSummary
		var created, updated int64
		err := row.Scan(&o.Org.ID, &o.Org.Name, &o.Org.Slug, &o.Org.AutoJoinDomain, &created, &updated, &o.Members)
		o.Org.CreatedAt, o.Org.UpdatedAt = fromMicros(created), fromMicros(updated)
		return &o, err
	}, `SELECT o.id, o.name, o.slug, o.auto_join_domain, o.created_at, o.updated_at,
		(SELECT COUNT(*) FROM org_members m WHERE m.org_id = o.id)
		FROM orgs o ORDER BY o.created_at DESC, o.id DESC LIMIT ?`, limit)
}

func (r reader) OrgsByAutoJoinDomain(ctx context.Context, domain string) ([]*gatehouse.Org, error) {
	return queryAll(ctx, r, scanOrg, `SELECT `+orgColumns+` FROM orgs WHERE auto_join_domain = ? AND auto_join_domain <> '' ORDER BY id`, domain)
}

func (t *tx) CreateOrg(ctx context.Context, o *gatehouse.Org) error {
	_, err := t.exec(ctx, `INSERT INTO orgs (`+orgColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		o.ID, o.Name, o.Slug, o.AutoJoinDomain, micros(o.CreatedAt), micros(o.UpdatedAt))
	return t.slugErr(err)
}

// slugErr reports a unique violation (the only unique column besides the key is the slug) as
// ErrOrgSlugTaken.
func (t *tx) slugErr(err error) error {
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrOrgSlugTaken
	}
	return err
}

func (t *tx) LockOrg(ctx context.Context, id string) (*gatehouse.Org, error) {
	o, err := scanOrg(t.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`+t.s.dialect.ForUpdate, id))
	return o, t.s.mapErr(err)
}

func (t *tx) UpdateOrg(ctx context.Context, o *gatehouse.Org) error {
	_, err := t.exec(ctx, `UPDATE orgs SET name = ?, slug = ?, auto_join_domain = ?, updated_at = ? WHERE id = ?`,
		o.Name, o.Slug, o.AutoJoinDomain, micros(o.UpdatedAt), o.ID)
	return t.slugErr(err)
}

func (t *tx) DeleteOrg(ctx context.Context, id string) error {
	// The foreign keys cascade to members, roles, invitations and credits; they are deleted
	// explicitly too, so the schema's cascades are not the only guard against orphans.
	for _, q := range []string{
		`DELETE FROM org_members WHERE org_id = ?`,
		`DELETE FROM org_roles WHERE org_id = ?`,
		`DELETE FROM org_invitations WHERE org_id = ?`,
		`DELETE FROM org_credit_entries WHERE org_id = ?`,
		`DELETE FROM org_credit_accounts WHERE org_id = ?`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return err
		}
	}
	return t.execOne(ctx, `DELETE FROM orgs WHERE id = ?`, id)
}

const memberColumns = `m.org_id, m.user_id, m.role, m.created_at, m.updated_at, u.email, u.name`

func scanMember(row rowScanner) (*gatehouse.Membership, error) {
	var m gatehouse.Membership
	var created, updated int64
	if err := row.Scan(&m.OrgID, &m.UserID, &m.Role, &created, &updated, &m.Email, &m.Name); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}

func (r reader) MembershipOf(ctx context.Context, orgID, userID string) (*gatehouse.Membership, error) {
	m, err := scanMember(r.queryRow(ctx, `SELECT `+memberColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? AND m.user_id = ?`, orgID, userID))
	return m, r.s.mapErr(err)
}

func (r reader) ListMembers(ctx context.Context, orgID string) ([]*gatehouse.Membership, error) {
	return queryAll(ctx, r, scanMember, `SELECT `+memberColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? ORDER BY m.created_at, m.user_id`, orgID)
}

func (t *tx) AddMember(ctx context.Context, m *gatehouse.Membership) error {
	_, err := t.exec(ctx, `INSERT INTO org_members (org_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		m.OrgID, m.UserID, m.Role, micros(m.CreatedAt), micros(m.UpdatedAt))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrAlreadyMember
	}
	return err
}

func (t *tx) SetMemberRole(ctx context.Context, orgID, userID, role string, at time.Time) error {
	return t.execOne(ctx, `UPDATE org_members SET role = ?, updated_at = ? WHERE org_id = ? AND user_id = ?`, role, micros(at), orgID, userID)
}

func (t *tx) RemoveMember(ctx context.Context, orgID, userID string) error {
	return t.execOne(ctx, `DELETE FROM org_members WHERE org_id = ? AND user_id = ?`, orgID, userID)
}

func (t *tx) CountMembersWithRole(ctx context.Context, orgID, role string) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM org_members WHERE org_id = ? AND role = ?`, orgID, role).Scan(&n)
	return n, t.s.mapErr(err)
}

func scanOrgRole(row rowScanner) (*gatehouse.OrgRole, error) {
	var r gatehouse.OrgRole
	var perms string
	var created, updated int64
	if err := row.Scan(&r.OrgID, &r.Name, &perms, &created, &updated); err != nil {
		return nil, err
	}
	r.Permissions = strings.Fields(perms)
	if r.Permissions == nil {
		r.Permissions = []string{}
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}

func (r reader) OrgRoleByName(ctx context.Context, orgID, name string) (*gatehouse.OrgRole, error) {
	o, err := scanOrgRole(r.queryRow(ctx, `SELECT org_id, name, permissions, created_at, updated_at FROM org_roles WHERE org_id = ? AND name = ?`, orgID, name))
	return o, r.s.mapErr(err)
}

func (r reader) ListOrgRoles(ctx context.Context, orgID string) ([]*gatehouse.OrgRole, error) {
	return queryAll(ctx, r, scanOrgRole, `SELECT org_id, name, permissions, created_at, updated_at FROM org_roles WHERE org_id = ? ORDER BY name`, orgID)
}

func (t *tx) CreateOrgRole(ctx context.Context, r *gatehouse.OrgRole) error {
	_, err := t.exec(ctx, `INSERT INTO org_roles (org_id, name, permissions, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		r.OrgID, r.Name, strings.Join(r.Permissions, " "), micros(r.CreatedAt), micros(r.UpdatedAt))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrOrgRoleExists
	}
	return err
}

func (t *tx) UpdateOrgRole(ctx context.Context, r *gatehouse.OrgRole) error {
	return t.execOne(ctx, `UPDATE org_roles SET permissions = ?, updated_at = ? WHERE org_id = ? AND name = ?`,
		strings.Join(r.Permissions, " "), micros(r.UpdatedAt), r.OrgID, r.Name)
}

func (t *tx) DeleteOrgRole(ctx context.Context, orgID, name string) error {
	return t.execOne(ctx, `DELETE FROM org_roles WHERE org_id = ? AND name = ?`, orgID, name)
}

const invitationColumns = `id, org_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at`

func scanInvitation(row rowScanner) (*gatehouse.Invitation, error) {
	var i gatehouse.Invitation
	var created, expires int64
	var accepted, revoked sql.NullInt64
	if err := row.Scan(&i.ID, &i.OrgID, &i.Email, &i.Role, &i.TokenHash, &i.InvitedBy, &created, &expires, &accepted, &i.AcceptedBy, &revoked); err != nil {
		return nil, err
	}
	i.CreatedAt, i.ExpiresAt = fromMicros(created), fromMicros(expires)
	i.AcceptedAt, i.RevokedAt = fromNullMicros(accepted), fromNullMicros(revoked)
	return &i, nil
}

func (r reader) InvitationByID(ctx context.Context, id string) (*gatehouse.Invitation, error) {
	i, err := scanInvitation(r.queryRow(ctx, `SELECT `+invitationColumns+` FROM org_invitations WHERE id = ?`, id))
	return i, r.s.mapErr(err)
}

func (r reader) InvitationByHash(ctx context.Context, hash []byte) (*gatehouse.Invitation, error) {
	i, err := scanInvitation(r.queryRow(ctx, `SELECT `+invitationColumns+` FROM org_invitations WHERE token_hash = ?`, hash))
	return i, r.s.mapErr(err)
}

func (r reader) ListPendingInvitations(ctx context.Context, orgID string, now time.Time) ([]*gatehouse.Invitation, error) {
	return queryAll(ctx, r, scanInvitation, `SELECT `+invitationColumns+` FROM org_invitations
		WHERE org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id DESC`, orgID, micros(now))
}

func (t *tx) CreateInvitation(ctx context.Context, i *gatehouse.Invitation) error {
	_, err := t.exec(ctx, `INSERT INTO org_invitations (`+invitationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.OrgID, i.Email, i.Role, i.TokenHash, i.InvitedBy, micros(i.CreatedAt), micros(i.ExpiresAt),
		nullMicros(i.AcceptedAt), i.AcceptedBy, nullMicros(i.RevokedAt))
	if err != nil && t.s.dialect.IsUniqueViolation(err) {
		return gatehouse.ErrInvitationPending
	}
	return err
}

func (t *tx) RetireExpiredInvitations(ctx context.Context, orgID, email string, now time.Time) error {
	_, err := t.exec(ctx, `UPDATE org_invitations SET revoked_at = ?
		WHERE org_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at <= ?`, micros(now), orgID, email, micros(now))
	return err
}

func (t *tx) AcceptInvitation(ctx context.Context, id, userID string, now time.Time) error {
	return t.execOne(ctx, `UPDATE org_invitations SET accepted_at = ?, accepted_by = ?
		WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, micros(now), userID, id, micros(now))
}

func (t *tx) RevokeInvitation(ctx context.Context, id string, now time.Time) error {
	return t.execOne(ctx, `UPDATE org_invitations SET revoked_at = ?
		WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, micros(now), id, micros(now))
}

func (t *tx) SetSessionOrg(ctx context.Context, sessionID, orgID, role string) error {
	return t.execOne(ctx, `UPDATE sessions SET org_id = ?, org_role = ? WHERE id = ?`, orgID, role, sessionID)
}

func (t *tx) SetMemberSessionsOrgRole(ctx context.Context, orgID, userID, role string) ([]string, error) {
	ids, err := t.queryIDs(ctx, `SELECT id FROM sessions WHERE org_id = ? AND user_id = ?`+t.s.dialect.ForUpdate, orgID, userID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	newOrg := orgID
	if role == "" {
		newOrg = ""
	}
	_, err = t.exec(ctx, `UPDATE sessions SET org_id = ?, org_role = ? WHERE org_id = ? AND user_id = ?`, newOrg, role, orgID, userID)
	return ids, err
}

func (t *tx) ClearOrgSessions(ctx context.Context, orgID string) ([]string, error) {
	ids, err := t.queryIDs(ctx, `SELECT id FROM sessions WHERE org_id = ?`+t.s.dialect.ForUpdate, orgID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	_, err = t.exec(ctx, `UPDATE sessions SET org_id = '', org_role = '' WHERE org_id = ?`, orgID)
	return ids, err
}

func (r reader) ListOrgAPIKeys(ctx context.Context, orgID string) ([]*gatehouse.APIKey, error) {
	return queryAll(ctx, r, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = ? AND org_id <> '' AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, orgID)
}

func (t *tx) DeleteOrgAPIKeys(ctx context.Context, orgID string, at time.Time) ([]string, error) {
	keys, err := t.queryIDs(ctx, `SELECT id FROM api_keys WHERE org_id = ? AND org_id <> ''`+t.s.dialect.ForUpdate, orgID)
	if err != nil {
		return nil, err
	}
	var sessions []string
	for _, id := range keys {
		ids, err := t.RevokeKeySessions(ctx, id, at)
		if err != nil {
			return nil, err
		}
		sessions = append(sessions, ids...)
	}
	if _, err := t.exec(ctx, `DELETE FROM api_keys WHERE org_id = ? AND org_id <> ''`, orgID); err != nil {
		return nil, err
	}
	return sessions, nil
}

func (r reader) OrgCreditAccountOf(ctx context.Context, orgID string) (*gatehouse.OrgCreditAccount, error) {
	var a gatehouse.OrgCreditAccount
	var start, end, updated int64
	err := r.queryRow(ctx, `SELECT org_id, plan, period_start, period_end, total_credits, used_credits, updated_at
		FROM org_credit_accounts WHERE org_id = ?`, orgID).Scan(&a.OrgID, &a.Plan, &start, &end, &a.Total, &a.Used, &updated)
	if err != nil {
		return nil, r.s.mapErr(err)
	}
	a.PeriodStart, a.PeriodEnd, a.UpdatedAt = fromMicros(start), fromMicros(end), fromMicros(updated)
	return &a, nil
}

func (t *tx) EnsureOrgCreditAccount(ctx context.Context, a *gatehouse.OrgCreditAccount) error {
	_, err := t.exec(ctx, `INSERT INTO org_credit_accounts (org_id, plan, period_start, period_end, total_credits, used_credits, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id) DO NOTHING`,
		a.OrgID, a.Plan, micros(a.PeriodStart), micros(a.PeriodEnd), a.Total, a.Used, micros(a.UpdatedAt))
	return err
}

func (t *tx) GrantOrgCredits(ctx context.Context, orgID string, amount int64, at time.Time) error {
	return t.execOne(ctx, `UPDATE org_credit_accounts SET total_credits = total_credits + ?, updated_at = ? WHERE org_id = ?`,
		amount, micros(at), orgID)
}

func (t *tx) UseOrgCredits(ctx context.Context, orgID string, amount int64, at time.Time) (bool, error) {
	// One conditional statement: the check and the write cannot be separated by another usage.
	res, err := t.exec(ctx, `UPDATE org_credit_accounts SET used_credits = used_credits + ?, updated_at = ?
		WHERE org_id = ? AND total_credits - used_credits >= ?`, amount, micros(at), orgID, amount)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.s.mapErr(err)
	}
	return n == 1, nil
}

func (t *tx) AddOrgCreditEntry(ctx context.Context, e *gatehouse.OrgCreditEntry) error {
	_, err := t.exec(ctx, `INSERT INTO org_credit_entries (id, org_id, amount, kind, description, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		e.ID, e.OrgID, e.Amount, e.Kind, e.Description, micros(e.CreatedAt))
	return err
}

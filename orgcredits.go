package gatehouse

import (
	"context"
	"fmt"
	"time"
)

// OrgCreditAccount is an organization's credit balance. Unlike a user's, it never goes past its
// grant: usage that would is refused.
type OrgCreditAccount struct {
	OrgID       string
	Plan        string
	PeriodStart time.Time
	PeriodEnd   time.Time
	Total       int64
	Used        int64
	UpdatedAt   time.Time
}

// OrgCreditEntry is one line of an organization's ledger: a grant (positive) or a use (negative).
type OrgCreditEntry struct {
	ID          string
	OrgID       string
	Amount      int64
	Kind        string // grant, usage
	Description string
	CreatedAt   time.Time
}

// balance is the account in the shape every credit answer has.
func (a *OrgCreditAccount) balance() *CreditAccount {
	return &CreditAccount{Plan: a.Plan, PeriodStart: a.PeriodStart, PeriodEnd: a.PeriodEnd, Total: a.Total, Used: a.Used, UpdatedAt: a.UpdatedAt}
}

// orgBalance reads an organization's balance; one that never had credits has an empty one.
func (o *OrgService) orgBalance(ctx context.Context, r OrgReader, orgID string) (*CreditAccount, error) {
	a, err := r.OrgCreditAccountOf(ctx, orgID)
	if isNotFound(err) {
		start, end := creditPeriod(o.auth.now())
		return &CreditAccount{Plan: DefaultPlan, PeriodStart: start, PeriodEnd: end}, nil
	} else if err != nil {
		return nil, err
	}
	return a.balance(), nil
}

// OrgCreditBalance returns the organization's balance to a member whose role has credits:read.
func (o *OrgService) OrgCreditBalance(ctx context.Context, p *Principal, orgID string) (*CreditAccount, error) {
	if _, err := o.access(ctx, nil, p, orgID, PermCreditsRead); err != nil {
		return nil, err
	}
	return o.orgBalance(ctx, o.auth.store, orgID)
}

// KeyCreditBalance returns the balance an API key answers for: its organization's for an
// organization key, its owner's otherwise.
func (o *OrgService) KeyCreditBalance(ctx context.Context, p *Principal) (*CreditAccount, error) {
	if p.APIKey != nil && p.APIKey.OrgID != "" {
		return o.orgBalance(ctx, o.auth.store, p.APIKey.OrgID)
	}
	return o.auth.CreditBalance(ctx, p.User.ID)
}

// KeyUseCredits records usage for the caller: against its organization's balance for an
// organization key (never below zero, however many uses race), its own otherwise.
func (o *OrgService) KeyUseCredits(ctx context.Context, p *Principal, amount int64, description string) (*CreditAccount, error) {
	if p.APIKey == nil || p.APIKey.OrgID == "" {
		return o.auth.UseCredits(ctx, p, amount, description)
	}
	if err := validateUsage(amount, description); err != nil {
		return nil, err
	}
	orgID := p.APIKey.OrgID
	var out *CreditAccount
	err := o.auth.tx(ctx, func(tx StoreTx) error {
		now := o.auth.now()
		ok, err := tx.UseOrgCredits(ctx, orgID, amount, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrInsufficientCredits
		}
		if err := tx.AddOrgCreditEntry(ctx, &OrgCreditEntry{ID: NewID(), OrgID: orgID, Amount: -amount, Kind: "usage",
			Description: description + " (key " + p.APIKey.ID + ")", CreatedAt: now}); err != nil {
			return err
		}
		out, err = o.orgBalance(ctx, tx, orgID)
		return err
	})
	return out, err
}

// GrantOrgCredits adds credits to an organization's balance (Gatehouse admins, the CLI), in one
// transaction with its ledger entry and audit event.
func (o *OrgService) GrantOrgCredits(ctx context.Context, by *Principal, orgID string, amount int64, description string) (*CreditAccount, error) {
	if amount <= 0 || amount > 1_000_000_000_000 {
		return nil, Invalid(FieldError{Field: "amount", Message: "amount must be a whole number from 1 to 10^12."})
	}
	if len(description) > 500 {
		return nil, Invalid(FieldError{Field: "description", Message: "description must be at most 500 characters."})
	}
	var out *CreditAccount
	err := o.auth.tx(ctx, func(tx StoreTx) error {
		if _, err := tx.LockOrg(ctx, orgID); err != nil {
			return notFoundAs(err, ErrOrgNotFound)
		}
		now := o.auth.now()
		start, end := creditPeriod(now)
		if err := tx.EnsureOrgCreditAccount(ctx, &OrgCreditAccount{OrgID: orgID, Plan: DefaultPlan, PeriodStart: start, PeriodEnd: end, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.GrantOrgCredits(ctx, orgID, amount, now); err != nil {
			return err
		}
		if err := tx.AddOrgCreditEntry(ctx, &OrgCreditEntry{ID: NewID(), OrgID: orgID, Amount: amount, Kind: "grant", Description: description, CreatedAt: now}); err != nil {
			return err
		}
		if err := o.auditOrgTx(ctx, tx, by, EventOrgCreditsGranted, orgID, fmt.Sprintf("%d credits", amount)+by.actor()); err != nil {
			return err
		}
		var err error
		out, err = o.orgBalance(ctx, tx, orgID)
		return err
	})
	return out, err
}

// OrgAuditLog lists the organization's audit events to a member whose role has audit:read.
func (o *OrgService) OrgAuditLog(ctx context.Context, p *Principal, orgID string, f AuditFilter) ([]*AuditEvent, string, error) {
	if _, err := o.access(ctx, nil, p, orgID, PermAuditRead); err != nil {
		return nil, "", err
	}
	f.OrgID = orgID
	return o.auth.AuditLog(ctx, f)
}

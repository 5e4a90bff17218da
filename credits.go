package gatehouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CreditAccount is a user's credit balance for the current period.
type CreditAccount struct {
	UserID       string
	Plan         string
	PeriodStart  time.Time
	PeriodEnd    time.Time
	Total        int64 // granted
	Used         int64
	AllowOverage bool // the plan lets usage go past the grant
	UpdatedAt    time.Time
}

// Remaining is what is left to use; negative only under an overage plan.
func (a *CreditAccount) Remaining() int64 { return a.Total - a.Used }

// UsagePercentage is Used as a percentage of Total, 0 when nothing was granted.
func (a *CreditAccount) UsagePercentage() float64 {
	if a.Total <= 0 {
		return 0
	}
	return float64(a.Used) * 100 / float64(a.Total)
}

// CreditEntry is one line of the ledger: a grant (positive) or a use (negative).
type CreditEntry struct {
	ID          string
	UserID      string
	Amount      int64
	Kind        string // grant, usage
	Description string
	CreatedAt   time.Time
}

// CreditReader reads balances.
type CreditReader interface {
	// CreditAccountOf returns ErrNotFound for a user who never had credits.
	CreditAccountOf(ctx context.Context, userID string) (*CreditAccount, error)
}

// CreditWriter changes balances. Both changes are single conditional statements, so concurrent
// usage can never drive a balance below zero.
type CreditWriter interface {
	// EnsureCreditAccount creates the account if the user has none.
	EnsureCreditAccount(ctx context.Context, a *CreditAccount) error
	// GrantCredits adds amount to the total and optionally changes the plan and period.
	GrantCredits(ctx context.Context, userID string, amount int64, plan string, periodStart, periodEnd *time.Time, at time.Time) error
	// UseCredits adds amount to the used count unless that would exceed the total on a plan
	// without overage; ok is false then, and nothing changes.
	UseCredits(ctx context.Context, userID string, amount int64, at time.Time) (ok bool, err error)
	AddCreditEntry(ctx context.Context, e *CreditEntry) error
}

// DefaultPlan is the plan of an account nobody has configured.
const DefaultPlan = "free"

// creditPeriod is the period that starts at now: credits are counted per 30 days.
func creditPeriod(now time.Time) (time.Time, time.Time) {
	return now, now.Add(30 * 24 * time.Hour)
}

var ErrInsufficientCredits = &Error{Kind: KindPaymentRequired, Code: "insufficient_credits", Message: "Not enough credits left for this request."}

// CreditBalance returns the user's balance; a user who never had credits has an empty one.
func (s *AuthService) CreditBalance(ctx context.Context, userID string) (*CreditAccount, error) {
	now := s.now()
	if b, ok := s.cache.balance(userID, now); ok {
		return &b, nil
	}
	generation := s.cache.currentGeneration()
	a, err := s.store.CreditAccountOf(ctx, userID)
	if isNotFound(err) {
		start, end := creditPeriod(now)
		a = &CreditAccount{UserID: userID, Plan: DefaultPlan, PeriodStart: start, PeriodEnd: end}
	} else if err != nil {
		return nil, err
	}
	s.cache.storeBalance(generation, a, now)
	return a, nil
}

// GrantCreditsInput is an admin's grant.
type GrantCreditsInput struct {
	Amount      int64
	Plan        string // empty keeps the plan
	Description string
}

// GrantCredits adds credits to a user's balance, in one transaction with its ledger entry.
func (s *AuthService) GrantCredits(ctx context.Context, by *Principal, userID string, in GrantCreditsInput) (*CreditAccount, error) {
	in.Plan = strings.TrimSpace(in.Plan)
	var fields []FieldError
	if in.Amount <= 0 || in.Amount > 1_000_000_000_000 {
		fields = append(fields, FieldError{Field: "amount", Message: "amount must be a whole number from 1 to 10^12."})
	}
	if len(in.Plan) > 64 {
		fields = append(fields, FieldError{Field: "plan", Message: "plan must be at most 64 characters."})
	}
	if len(in.Description) > 500 {
		fields = append(fields, FieldError{Field: "description", Message: "description must be at most 500 characters."})
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	var out *CreditAccount
	err := s.tx(ctx, func(tx StoreTx) error {
		if _, err := tx.UserByID(ctx, userID); err != nil {
			return err
		}
		now := s.now()
		start, end := creditPeriod(now)
		if err := tx.EnsureCreditAccount(ctx, &CreditAccount{UserID: userID, Plan: DefaultPlan, PeriodStart: start, PeriodEnd: end, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.GrantCredits(ctx, userID, in.Amount, in.Plan, nil, nil, now); err != nil {
			return err
		}
		if err := tx.AddCreditEntry(ctx, &CreditEntry{ID: NewID(), UserID: userID, Amount: in.Amount, Kind: "grant", Description: in.Description, CreatedAt: now}); err != nil {
			return err
		}
		if err := s.auditTx(ctx, tx, by.Client, EventCreditsGranted, userID, OutcomeSuccess, fmt.Sprintf("%d credits", in.Amount)+by.actor()); err != nil {
			return err
		}
		var err error
		out, err = tx.CreditAccountOf(ctx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidateBalance(userID)
	return out, nil
}

// validateUsage checks a usage's amount and description, for a user's balance or an
// organization's.
func validateUsage(amount int64, description string) error {
	if amount <= 0 || amount > 1_000_000_000 {
		return Invalid(FieldError{Field: "amount", Message: "amount must be a whole number from 1 to 10^9."})
	}
	if len(description) > 500 {
		return Invalid(FieldError{Field: "description", Message: "description must be at most 500 characters."})
	}
	return nil
}

// UseCredits records usage against the caller's balance. It refuses, changing nothing, when the
// balance is short and the plan allows no overage, and inside an impersonation session (usage is
// metered, not audited: an admin must not spend what the user paid for).
func (s *AuthService) UseCredits(ctx context.Context, p *Principal, amount int64, description string) (*CreditAccount, error) {
	if err := validateUsage(amount, description); err != nil {
		return nil, err
	}
	if err := s.forbidImpersonated(ctx, p, "credit usage"); err != nil {
		return nil, err
	}
	userID := p.User.ID
	var out *CreditAccount
	err := s.tx(ctx, func(tx StoreTx) error {
		now := s.now()
		start, end := creditPeriod(now)
		if err := tx.EnsureCreditAccount(ctx, &CreditAccount{UserID: userID, Plan: DefaultPlan, PeriodStart: start, PeriodEnd: end, UpdatedAt: now}); err != nil {
			return err
		}
		ok, err := tx.UseCredits(ctx, userID, amount, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrInsufficientCredits
		}
		if err := tx.AddCreditEntry(ctx, &CreditEntry{ID: NewID(), UserID: userID, Amount: -amount, Kind: "usage", Description: description, CreatedAt: now}); err != nil {
			return err
		}
		out, err = tx.CreditAccountOf(ctx, userID)
		return err
	})
	s.cache.invalidateBalance(userID)
	if err != nil {
		return nil, err
	}
	return out, nil
}

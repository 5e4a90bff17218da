package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse"
)

func (r reader) CreditAccountOf(ctx context.Context, userID string) (*gatehouse.CreditAccount, error) {
	var a gatehouse.CreditAccount
	var start, end, updated int64
	err := r.queryRow(ctx, `SELECT user_id, plan, period_start, period_end, total_credits, used_credits, allow_overage, updated_at
		FROM credit_accounts WHERE user_id = ?`, userID).Scan(&a.UserID, &a.Plan, &start, &end, &a.Total, &a.Used, &a.AllowOverage, &updated)
	if err != nil {
		return nil, r.s.mapErr(err)
	}
	a.PeriodStart, a.PeriodEnd, a.UpdatedAt = fromMicros(start), fromMicros(end), fromMicros(updated)
	return &a, nil
}

func (t *tx) EnsureCreditAccount(ctx context.Context, a *gatehouse.CreditAccount) error {
	_, err := t.exec(ctx, `INSERT INTO credit_accounts (user_id, plan, period_start, period_end, total_credits, used_credits, allow_overage, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`,
		a.UserID, a.Plan, micros(a.PeriodStart), micros(a.PeriodEnd), a.Total, a.Used, a.AllowOverage, micros(a.UpdatedAt))
	return err
}

func (t *tx) GrantCredits(ctx context.Context, userID string, amount int64, plan string, periodStart, periodEnd *time.Time, at time.Time) error {
	if err := t.execOne(ctx, `UPDATE credit_accounts SET total_credits = total_credits + ?, updated_at = ? WHERE user_id = ?`,
		amount, micros(at), userID); err != nil {
		return err
	}
	if plan != "" {
		if err := t.execOne(ctx, `UPDATE credit_accounts SET plan = ? WHERE user_id = ?`, plan, userID); err != nil {
			return err
		}
	}
	if periodStart != nil && periodEnd != nil {
		return t.execOne(ctx, `UPDATE credit_accounts SET period_start = ?, period_end = ? WHERE user_id = ?`,
			micros(*periodStart), micros(*periodEnd), userID)
	}
	return nil
}

func (t *tx) UseCredits(ctx context.Context, userID string, amount int64, at time.Time) (bool, error) {
	// One conditional statement: the check and the write cannot be separated by another usage.
	res, err := t.exec(ctx, `UPDATE credit_accounts SET used_credits = used_credits + ?, updated_at = ?
		WHERE user_id = ? AND (allow_overage OR total_credits - used_credits >= ?)`, amount, micros(at), userID, amount)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.s.mapErr(err)
	}
	return n == 1, nil
}

func (t *tx) AddCreditEntry(ctx context.Context, e *gatehouse.CreditEntry) error {
	_, err := t.exec(ctx, `INSERT INTO credit_entries (id, user_id, amount, kind, description, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		e.ID, e.UserID, e.Amount, e.Kind, e.Description, micros(e.CreatedAt))
	return err
}

package httpapi

import (
	"math"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

type balanceJSON struct {
	TotalCredits     int64   `json:"total_credits"`
	UsedCredits      int64   `json:"used_credits"`
	RemainingCredits int64   `json:"remaining_credits"`
	Plan             string  `json:"plan"`
	PeriodStart      string  `json:"period_start"`
	PeriodEnd        string  `json:"period_end"`
	UsagePercentage  float64 `json:"usage_percentage"`
}

func balanceView(b *gatehouse.CreditAccount) balanceJSON {
	return balanceJSON{
		TotalCredits:     b.Total,
		UsedCredits:      b.Used,
		RemainingCredits: b.Remaining(),
		Plan:             b.Plan,
		PeriodStart:      b.PeriodStart.UTC().Format(time.RFC3339),
		PeriodEnd:        b.PeriodEnd.UTC().Format(time.RFC3339),
		UsagePercentage:  math.Round(b.UsagePercentage()*100) / 100,
	}
}

func (a *api) handleCreditBalance() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b *gatehouse.CreditAccount
		var err error
		if a.Orgs != nil {
			b, err = a.Orgs.KeyCreditBalance(r.Context(), principalFrom(r.Context()))
		} else {
			b, err = a.Auth.CreditBalance(r.Context(), principalFrom(r.Context()).User.ID)
		}
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, balanceView(b))
	})
}

func (a *api) handleUseCredits() http.Handler {
	type request struct {
		Amount      int64  `json:"amount"`
		Description string `json:"description"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		var b *gatehouse.CreditAccount
		if a.Orgs != nil {
			b, err = a.Orgs.KeyUseCredits(r.Context(), principalFrom(r.Context()), in.Amount, in.Description)
		} else {
			b, err = a.Auth.UseCredits(r.Context(), principalFrom(r.Context()), in.Amount, in.Description)
		}
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, balanceView(b))
	})
}

func (a *api) handleGrantCredits() http.Handler {
	type request struct {
		Amount      int64  `json:"amount"`
		Plan        string `json:"plan"`
		Description string `json:"description"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](r, false)
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		b, err := a.Auth.GrantCredits(r.Context(), principalFrom(r.Context()), r.PathValue("id"), gatehouse.GrantCreditsInput(in))
		if err != nil {
			writeError(w, r, a.Log, err)
			return
		}
		respond(w, http.StatusOK, balanceView(b))
	})
}

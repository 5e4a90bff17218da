package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
)

type auditJSON struct {
	ID        string `json:"id"`
	At        string `json:"at"`
	Type      string `json:"type"`
	UserID    string `json:"user_id,omitempty"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	Outcome   string `json:"outcome"`
	Detail    string `json:"detail,omitempty"`
	// ActorID: the admin who acted as the user through an impersonation session.
	ActorID string `json:"actor_id,omitempty"`
}

type auditPageJSON struct {
	Items      []auditJSON `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

func (a *api) auditPage(w http.ResponseWriter, r *http.Request, userID string) {
	q := r.URL.Query()
	f := gatehouse.AuditFilter{UserID: userID, Type: q.Get("type"), BeforeID: q.Get("cursor"), Limit: 50}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > gatehouse.MaxPageSize {
			writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "limit", Message: "limit must be a whole number from 1 to 200."}))
			return
		}
		f.Limit = n
	}
	if len(f.Type) > 64 || len(f.BeforeID) > 64 || len(f.UserID) > 64 {
		writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "cursor", Message: "A filter is too long."}))
		return
	}
	events, next, err := a.Auth.AuditLog(r.Context(), f)
	if err != nil {
		writeError(w, r, a.Log, err)
		return
	}
	out := auditPageJSON{Items: make([]auditJSON, 0, len(events))}
	for _, e := range events {
		out.Items = append(out.Items, auditJSON{ID: e.ID, At: e.At.UTC().Format(time.RFC3339Nano), Type: e.Type, UserID: e.UserID,
			IP: e.IP, UserAgent: e.UserAgent, Outcome: e.Outcome, Detail: e.Detail, ActorID: e.ActorID})
	}
	if next != "" {
		out.NextCursor = &next
	}
	respond(w, http.StatusOK, out)
}

// handleAdminAudit lists every security event, filtered by ?user_id= and ?type=.
func (a *api) handleAdminAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.auditPage(w, r, r.URL.Query().Get("user_id"))
	})
}

// handleMyAudit lists the caller's own recent security events.
func (a *api) handleMyAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.auditPage(w, r, principalFrom(r.Context()).User.ID)
	})
}

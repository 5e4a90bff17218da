package httpapi

import (
	"context"
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
	OrgID   string `json:"org_id,omitempty"`
}

type auditPageJSON struct {
	Items      []auditJSON `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// auditLister lists audit events: the whole log's, or one organization's.
type auditLister func(ctx context.Context, f gatehouse.AuditFilter) ([]*gatehouse.AuditEvent, string, error)

func (a *api) auditPage(w http.ResponseWriter, r *http.Request, userID string) {
	a.auditPageOf(w, r, gatehouse.AuditFilter{UserID: userID}, a.Auth.AuditLog)
}

// auditPageOf answers a page of the events list finds, within the filter base.
func (a *api) auditPageOf(w http.ResponseWriter, r *http.Request, base gatehouse.AuditFilter, list auditLister) {
	q := r.URL.Query()
	f := base
	f.Type, f.BeforeID, f.Limit = q.Get("type"), q.Get("cursor"), 50
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > gatehouse.MaxPageSize {
			writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "limit", Message: "limit must be a whole number from 1 to 200."}))
			return
		}
		f.Limit = n
	}
	if len(f.Type) > 64 || len(f.BeforeID) > 64 || len(f.UserID) > 64 || len(f.OrgID) > 64 {
		writeError(w, r, a.Log, gatehouse.Invalid(gatehouse.FieldError{Field: "cursor", Message: "A filter is too long."}))
		return
	}
	events, next, err := list(r.Context(), f)
	if err != nil {
		writeError(w, r, a.Log, err)
		return
	}
	out := auditPageJSON{Items: make([]auditJSON, 0, len(events))}
	for _, e := range events {
		out.Items = append(out.Items, auditJSON{ID: e.ID, At: e.At.UTC().Format(time.RFC3339Nano), Type: e.Type, UserID: e.UserID,
			IP: e.IP, UserAgent: e.UserAgent, Outcome: e.Outcome, Detail: e.Detail, ActorID: e.ActorID, OrgID: e.OrgID})
	}
	if next != "" {
		out.NextCursor = &next
	}
	respond(w, http.StatusOK, out)
}

// handleAdminAudit lists every security event, filtered by ?user_id=, ?org_id= and ?type=.
func (a *api) handleAdminAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a.auditPageOf(w, r, gatehouse.AuditFilter{UserID: q.Get("user_id"), OrgID: q.Get("org_id")}, a.Auth.AuditLog)
	})
}

// handleMyAudit lists the caller's own recent security events.
func (a *api) handleMyAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.auditPage(w, r, principalFrom(r.Context()).User.ID)
	})
}

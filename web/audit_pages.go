package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse"
)

const auditPageSize = 50

type auditRow struct {
	*gatehouse.AuditEvent
	Email string // the user's current address, when the event names a user that still exists
	// ActorEmail is the address of the admin who acted as the user (impersonation), when known.
	ActorEmail string
}

type auditData struct {
	Events     []auditRow
	Types      []string
	Type, User string
	NextURL    string
}

// auditPage is GET /admin/audit with its filters: an event type, and a user given by email or id.
func (s *server) auditPage(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx := r.Context()
	q := r.URL.Query()
	typ, who, cursor := strings.TrimSpace(q.Get("type")), strings.TrimSpace(q.Get("user")), q.Get("cursor")
	d := &auditData{Types: eventTypes(), Type: typ, User: who}
	vw := &view{Title: "Audit log", Nav: "audit", Data: d, Form: map[string]string{}}
	if len(typ) > 64 || len(who) > 320 || len(cursor) > 64 {
		s.failForm(w, r, v, "audit", vw, invalid("type", "A filter is too long."))
		return
	}
	userID := who
	if strings.Contains(who, "@") {
		u, err := s.Auth.UserByEmail(ctx, who)
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			vw.Error = "No account has the address " + who + "."
			s.render(w, r, v, http.StatusOK, "audit", vw)
			return
		} else if err != nil {
			s.fail(w, r, v, err)
			return
		}
		userID = u.ID
	}
	events, next, err := s.Auth.AuditLog(ctx, gatehouse.AuditFilter{UserID: userID, Type: typ, BeforeID: cursor, Limit: auditPageSize})
	if err != nil {
		s.failForm(w, r, v, "audit", vw, err)
		return
	}
	emails := map[string]string{}
	emailOf := func(id string) string {
		if _, seen := emails[id]; !seen {
			emails[id] = ""
			if u, err := s.Auth.User(ctx, id); err == nil {
				emails[id] = u.Email
			}
		}
		return emails[id]
	}
	for _, e := range events {
		row := auditRow{AuditEvent: e}
		if e.UserID != "" {
			row.Email = emailOf(e.UserID)
		}
		if e.ActorID != "" {
			row.ActorEmail = emailOf(e.ActorID)
		}
		d.Events = append(d.Events, row)
	}
	if next != "" {
		nq := url.Values{"cursor": {next}}
		if typ != "" {
			nq.Set("type", typ)
		}
		if who != "" {
			nq.Set("user", who)
		}
		d.NextURL = "/admin/audit?" + nq.Encode()
	}
	s.render(w, r, v, http.StatusOK, "audit", vw)
}

// eventTypes lists the event types the filter offers.
func eventTypes() []string {
	out := make([]string, 0, len(eventLabels))
	for t := range eventLabels {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

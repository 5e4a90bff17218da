package gatehouse

import (
	"context"
	"time"
)

// Security event types recorded in the audit log.
const (
	EventRegistered       = "user.registered"
	EventLoginSucceeded   = "login.succeeded"
	EventLoginFailed      = "login.failed"
	EventRefreshed        = "token.refreshed"
	EventRefreshReuse     = "token.reuse_detected"
	EventLoggedOut        = "session.logged_out"
	EventSessionRevoked   = "session.revoked"
	EventPasswordChanged  = "password.changed"
	EventPasswordReset    = "password.reset"
	EventEmailVerified    = "email.verified"
	EventOAuthLinked      = "oauth.linked"
	EventOAuthUnlinked    = "oauth.unlinked"
	EventAPIKeyCreated    = "api_key.created"
	EventAPIKeyRevoked    = "api_key.revoked"
	EventRoleChanged      = "user.role_changed"
	EventAccountDisabled  = "user.disabled"
	EventAccountEnabled   = "user.enabled"
	EventProfileUpdated   = "user.profile_updated"
	EventCreditsGranted   = "credits.granted"
	EventRateLimited      = "rate_limited"
	OutcomeSuccess        = "success"
	OutcomeFailure        = "failure"
	auditDetailMaxLength  = 500
	auditUserAgentMaxSize = 256
)

// AuditEvent is one line of the append-only security log. It never holds a secret.
type AuditEvent struct {
	ID        string
	At        time.Time
	Type      string
	UserID    string
	IP        string
	UserAgent string
	Outcome   string
	Detail    string
	// ActorID is the admin who acted as the user through an impersonation session (and who
	// started one); empty for the user's own actions.
	ActorID string
}

// AuditFilter selects audit events, newest first, before the cursor BeforeID.
type AuditFilter struct {
	UserID   string
	Type     string
	BeforeID string
	Limit    int
}

// AuditReader reads the audit log.
type AuditReader interface {
	ListAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
}

// AuditWriter appends to the audit log; there is no update or delete.
type AuditWriter interface {
	AppendAuditEvent(ctx context.Context, e *AuditEvent) error
}

// EventObserver is told of every security event, for metrics.
type EventObserver interface {
	SecurityEvent(eventType, outcome string)
}

// newAuditEvent is one event of the caller c (its address and user agent are recorded).
func (s *AuthService) newAuditEvent(c Client, typ, userID, outcome, detail string) *AuditEvent {
	c = c.normalized()
	c.UserAgent = cleanText(c.UserAgent, auditUserAgentMaxSize)
	detail = cleanText(detail, auditDetailMaxLength)
	now := s.now()
	return &AuditEvent{ID: NewID(), At: now, Type: typ, UserID: userID, IP: c.IP, UserAgent: c.UserAgent, Outcome: outcome, Detail: detail, ActorID: c.ActorID}
}

// auditTx records an event of the caller c inside the transaction whose change it describes.
func (s *AuthService) auditTx(ctx context.Context, tx StoreTx, c Client, typ, userID, outcome, detail string) error {
	if err := tx.AppendAuditEvent(ctx, s.newAuditEvent(c, typ, userID, outcome, detail)); err != nil {
		return err
	}
	s.observe(typ, outcome)
	return nil
}

// audit records an event on its own, for events with no transaction of their own (a failed
// login). A failure to record is logged, never shown to the client.
func (s *AuthService) audit(ctx context.Context, c Client, typ, userID, outcome, detail string) {
	e := s.newAuditEvent(c, typ, userID, outcome, detail)
	if err := s.store.Tx(ctx, func(tx StoreTx) error { return tx.AppendAuditEvent(ctx, e) }); err != nil {
		s.log.WarnContext(ctx, "could not write audit event", "type", typ, "error", err)
	}
	s.observe(typ, outcome)
}

func (s *AuthService) observe(typ, outcome string) {
	if s.observer != nil {
		s.observer.SecurityEvent(typ, outcome)
	}
}

// DomainRateRules are the limits the rules enforce themselves, because they concern an account
// rather than an address.
type DomainRateRules struct {
	LoginAccount RateRule // failed logins (and wrong current passwords) per account
	ForgotEmail  RateRule // reset emails per address
	ResendEmail  RateRule // verification resends per address
	NoticeEmail  RateRule // security notices (password changed, sign-in linked) per address
}

// AuditLog lists audit events.
func (s *AuthService) AuditLog(ctx context.Context, f AuditFilter) ([]*AuditEvent, string, error) {
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 50
	}
	want := f.Limit
	f.Limit++
	events, err := s.store.ListAuditEvents(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(events) > want {
		events = events[:want]
		next = events[want-1].ID
	}
	return events, next, nil
}

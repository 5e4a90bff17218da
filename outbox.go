package gatehouse

import (
	"context"
	"errors"
	"time"
)

// OutboxMessage is an email waiting to be sent, or the record of one sent or given up. It is
// written in the same transaction as the change it reports, so no email is promised that is not
// queued, and none is queued for a change that did not happen.
type OutboxMessage struct {
	ID      string
	Kind    EmailKind
	To      string
	Subject string
	// Text and HTML are the rendered bodies. A link's token is not in them: they hold a marker
	// where it goes, and Secret holds the marker and token sealed under KeyID.
	Text   string
	HTML   string
	Secret []byte // nil for messages that carry no secret, and once sent or given up
	KeyID  string
	// ExpiresAt is when the link expires; the message is given up then, since it could only
	// deliver a dead link. nil for notices.
	ExpiresAt     *time.Time
	Attempts      int
	NextAttemptAt time.Time
	SentAt        *time.Time
	FailedAt      *time.Time
	LastError     string
	CreatedAt     time.Time
}

// OutgoingEmail is a message as a Mailer sends it: complete, with its link.
type OutgoingEmail struct {
	ID      string // stable across retries; mailers derive the Message-ID from it
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer delivers email. An error means the message may not have been accepted; it is retried
// unless IsPermanentDeliveryError says retrying cannot help.
type Mailer interface {
	Send(ctx context.Context, m *OutgoingEmail) error
}

// IsPermanentDeliveryError reports an error that a retry would only repeat, such as a recipient
// the mail server refuses outright. Mailers mark such errors with a Permanent() bool method.
func IsPermanentDeliveryError(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

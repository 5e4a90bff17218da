package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/gatehouse/gatehouse"
)

// Mailer sends email through one SMTP server. It implements gatehouse.Mailer.
type Mailer struct {
	cfg     Config
	from    string
	domain  string // of the sender, for Message-IDs
	tls     *tls.Config
	timeout time.Duration
}

// Option adjusts a Mailer.
type Option func(*Mailer)

// WithTLSConfig replaces the TLS settings (tests use it to trust their own certificate
// authority). The server name is still checked.
func WithTLSConfig(c *tls.Config) Option { return func(m *Mailer) { m.tls = c.Clone() } }

// WithTimeout bounds one connection, from dial to quit (default 30s).
func WithTimeout(d time.Duration) Option { return func(m *Mailer) { m.timeout = d } }

// New makes a Mailer that sends as from ("Name <address>" or a bare address).
func New(cfg Config, from string, opts ...Option) (*Mailer, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("sender %q: %w", from, err)
	}
	m := &Mailer{cfg: cfg, from: from, timeout: 30 * time.Second,
		tls: &tls.Config{MinVersion: tls.VersionTLS12}}
	m.domain = addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	for _, o := range opts {
		o(m)
	}
	m.tls.ServerName = cfg.Host
	return m, nil
}

// Send delivers one email with a new connection. The Message-ID is derived from the outbox
// message's id, so a message sent twice (after a crash between acceptance and bookkeeping) is
// recognisable as one.
func (m *Mailer) Send(ctx context.Context, e *gatehouse.OutgoingEmail) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return permanent(err)
	}
	if err := msg.To(e.To); err != nil {
		return permanent(err)
	}
	msg.Subject(e.Subject)
	msg.SetMessageIDWithValue(e.ID + "@" + m.domain)
	msg.SetDate()
	// RFC 3834: tell vacation responders not to answer.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	client, err := gomail.NewClient(m.cfg.Host, m.clientOptions()...)
	if err != nil {
		return err
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err != nil && msg.IsDelivered() {
		// Accepted; only the goodbye failed. Reporting an error would send it again.
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
		return permanent(err)
	}
	return err
}

func (m *Mailer) clientOptions() []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.timeout),
		gomail.WithTLSConfig(m.tls),
	}
	switch {
	case m.cfg.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case m.cfg.StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if m.cfg.Username != "" {
		// The strongest mechanism the server offers; over an unencrypted connection go-mail only
		// considers those that do not reveal the password.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	return opts
}

// permanentError is a delivery failure that retrying would only repeat.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

func permanent(err error) error { return &permanentError{err} }

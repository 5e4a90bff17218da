// Package smtptest runs a real SMTP server in a test (github.com/emersion/go-smtp on loopback)
// and hands over each message it receives, parsed, so that tests read links out of the actual
// email that Gatehouse sent.
package smtptest

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/gatehouse/gatehouse/internal/porthold"
)

// Options configure a Server. The zero value is a plain server that accepts everything.
type Options struct {
	// TLS, when set, is offered through STARTTLS, or from the first byte with ImplicitTLS.
	TLS         *tls.Config
	ImplicitTLS bool
	// Username and Password, when set, are required (AUTH PLAIN) before MAIL FROM.
	Username, Password string
	// RejectRecipient, when it returns true, refuses a recipient with a permanent 550.
	RejectRecipient func(to string) bool
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // host:port, stable across Stop and Restart

	opts     Options
	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	received chan *Message
	pending  []*Message // received but passed over by Await
	count    int
	held     io.Closer // the port, bound without listening while stopped (see porthold)
}

// Start runs a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, received: make(chan *Message, 1000)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(func() {
		s.Stop()
		s.release()
	})
	return s
}

// URL is the GATEHOUSE_SMTP_URL of a plain server (no TLS, no credentials).
func (s *Server) URL() string { return "smtp://" + s.Addr + "?starttls=off" }

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.AllowInsecureAuth = s.opts.TLS == nil
	if s.opts.TLS != nil {
		srv.TLSConfig = s.opts.TLS
		if s.opts.ImplicitTLS {
			ln = tls.NewListener(ln, s.opts.TLS)
		}
	}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go srv.Serve(ln)
}

// Stop closes the listener and every connection: the server is down, connections are refused.
// The port stays bound, without a listener, until Restart or the end of the test: other processes
// on the machine (test suites running side by side) cannot take it meanwhile.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Closed here as well: Serve may not have registered it with srv yet.
		ln.Close()
		srv.Close()
		if held, err := porthold.Hold(s.Addr); err == nil {
			s.mu.Lock()
			s.held = held
			s.mu.Unlock()
		}
	}
}

// release lets go of the port that Stop held.
func (s *Server) release() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	if held != nil {
		held.Close()
	}
}

// Restart listens again on the same address after Stop.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	// The port was just ours; retry briefly in case the kernel has not let go of it yet.
	for range 50 {
		if ln, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("smtptest: listen again on %s: %v", s.Addr, err)
	}
	s.release() // the listener is bound beside it: the port was never free
	s.serve(ln)
}

// Count is how many messages the server has accepted so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Next returns the next message, waiting at most timeout; the test fails if none comes.
func (s *Server) Next(t testing.TB, timeout time.Duration) *Message {
	t.Helper()
	return s.Await(t, timeout, func(*Message) bool { return true })
}

// Await returns the first message, received or to come within timeout, for which match is true.
// Messages passed over are kept for later calls.
func (s *Server) Await(t testing.TB, timeout time.Duration, match func(*Message) bool) *Message {
	t.Helper()
	s.mu.Lock()
	for i, m := range s.pending {
		if match(m) {
			s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
			s.mu.Unlock()
			return m
		}
	}
	s.mu.Unlock()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case m := <-s.received:
			if match(m) {
				return m
			}
			s.mu.Lock()
			s.pending = append(s.pending, m)
			s.mu.Unlock()
		case <-deadline.C:
			t.Fatalf("smtptest: no matching message within %s (%d received)", timeout, s.Count())
			return nil
		}
	}
}

// ExpectNone fails the test if a message arrives within wait.
func (s *Server) ExpectNone(t testing.TB, wait time.Duration) {
	t.Helper()
	s.mu.Lock()
	n := len(s.pending)
	s.mu.Unlock()
	if n > 0 {
		t.Fatalf("smtptest: %d unexpected message(s) waiting", n)
	}
	select {
	case m := <-s.received:
		t.Fatalf("smtptest: unexpected message to %v: %s", m.To, m.Subject)
	case <-time.After(wait):
	}
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.opts.RejectRecipient != nil && ss.s.opts.RejectRecipient(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := Parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable message: " + err.Error()}
	}
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	ss.s.mu.Lock()
	ss.s.count++
	ss.s.mu.Unlock()
	ss.s.received <- m
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

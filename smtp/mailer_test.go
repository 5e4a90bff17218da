package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/smtptest"
)

func testEmail() *gatehouse.OutgoingEmail {
	return &gatehouse.OutgoingEmail{
		ID:      "0190f0d6-1111-7000-8000-000000000001",
		To:      "alice@example.com",
		Subject: "Confirm your email address — Gatehouse",
		Text:    "Open https://app.example.com/verify-email?token=abc_DEF-123 to confirm.\n",
		HTML:    `<p><a href="https://app.example.com/verify-email?token=abc_DEF-123">Confirm</a></p>`,
	}
}

func send(t *testing.T, raw string, opts ...Option) error {
	t.Helper()
	cfg, err := ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, "Gatehouse <no-reply@auth.example.com>", append([]Option{WithTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m.Send(context.Background(), testEmail())
}

func TestSendPlainRelay(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	if err := send(t, srv.URL()); err != nil {
		t.Fatal(err)
	}
	m := srv.Next(t, 5*time.Second)
	if m.From != "no-reply@auth.example.com" || len(m.To) != 1 || m.To[0] != "alice@example.com" {
		t.Fatalf("envelope: from %q to %v", m.From, m.To)
	}
	if m.Subject != testEmail().Subject {
		t.Fatalf("subject %q", m.Subject)
	}
	if got := m.Link(t, "/verify-email?token="); got != "https://app.example.com/verify-email?token=abc_DEF-123" {
		t.Fatalf("link %q", got)
	}
	if id := m.Header.Get("Message-ID"); id != "<"+testEmail().ID+"@auth.example.com>" {
		t.Fatalf("Message-ID %q", id)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("Date") == "" {
		t.Fatalf("headers: %v", m.Header)
	}
}

func TestStartTLSIsMandatoryByDefault(t *testing.T) {
	// A server without STARTTLS: smtp:// refuses to send in the clear.
	srv := smtptest.Start(t, smtptest.Options{})
	err := send(t, "smtp://"+srv.Addr)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sent without STARTTLS: %v", err)
	}
	if srv.Count() != 0 {
		t.Fatal("a message reached the server")
	}
}

func TestStartTLSWithCredentials(t *testing.T) {
	serverTLS, roots := smtptest.NewTLS(t)
	srv := smtptest.Start(t, smtptest.Options{TLS: serverTLS, Username: "mailer@example.com", Password: "s3cret:pw"})
	url := "smtp://mailer%40example.com:s3cret%3Apw@" + srv.Addr
	if err := send(t, url, WithTLSConfig(&tls.Config{RootCAs: roots})); err != nil {
		t.Fatal(err)
	}
	srv.Next(t, 5*time.Second)
	// Wrong password: refused, nothing delivered.
	if err := send(t, "smtp://mailer%40example.com:wrong@"+srv.Addr, WithTLSConfig(&tls.Config{RootCAs: roots})); err == nil {
		t.Fatal("sent with a wrong password")
	}
	// An untrusted certificate is refused.
	if err := send(t, url); err == nil {
		t.Fatal("accepted a certificate nobody vouches for")
	}
}

func TestImplicitTLS(t *testing.T) {
	serverTLS, roots := smtptest.NewTLS(t)
	srv := smtptest.Start(t, smtptest.Options{TLS: serverTLS, ImplicitTLS: true})
	if err := send(t, "smtps://"+srv.Addr, WithTLSConfig(&tls.Config{RootCAs: roots})); err != nil {
		t.Fatal(err)
	}
	srv.Next(t, 5*time.Second)
}

func TestRejectedRecipientIsPermanent(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{RejectRecipient: func(string) bool { return true }})
	err := send(t, srv.URL())
	if err == nil || !gatehouse.IsPermanentDeliveryError(err) {
		t.Fatalf("want a permanent error, got %v", err)
	}
}

func TestServerDownIsTemporary(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	srv.Stop()
	err := send(t, srv.URL())
	if err == nil || gatehouse.IsPermanentDeliveryError(err) {
		t.Fatalf("want a temporary error, got %v", err)
	}
}

func TestDevMailer(t *testing.T) {
	var buf bytes.Buffer
	if err := NewDevMailer(&buf).Send(context.Background(), testEmail()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{DevBanner, "To: alice@example.com", "https://app.example.com/verify-email?token=abc_DEF-123"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dev output lacks %q:\n%s", want, out)
		}
	}
}

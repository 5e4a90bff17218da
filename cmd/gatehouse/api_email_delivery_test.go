package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// An SMTP outage never fails a request nor loses an email: delivered once the server is back,
// exactly once.
func TestSMTPOutage(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	mail.Stop()
	s := startServer(t, mailEnv(mail)...)
	a := s.register(t) // 201 with the mail server down
	s.forgot(t, a.Email)
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/verify-email/resend", nil, bearer(a.Access)), http.StatusAccepted)
	waitForLog(t, s, "email delivery failed; will retry")

	mail.Restart(t)
	verifyLink(t, mail, a.Email)
	verifyLink(t, mail, a.Email)
	token := resetLink(t, mail, a.Email)
	mail.ExpectNone(t, 500*time.Millisecond)
	expectStatus(t, s.reset(t, token, "a completely new passphrase"), http.StatusOK)
}

// The outbox is in the database: what a server queued while the mail server was down, the next
// server sends. The two share GATEHOUSE_ENCRYPTION_KEY, not a data directory, as instances of one
// PostgreSQL deployment would.
func TestOutboxSurvivesRestart(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	mail.Stop()
	key := make([]byte, 32)
	rand.Read(key)
	env := testEnv(t)
	if env["GATEHOUSE_DATABASE_URL"] == "" {
		env["GATEHOUSE_DATABASE_URL"] = "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	}
	env["GATEHOUSE_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(key)
	for _, kv := range mailEnv(mail) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	first := startServerEnv(t, env)
	a := first.register(t)
	waitForLog(t, first, "email delivery failed; will retry")
	first.stop()
	if _, err := os.Stat(filepath.Join(env["GATEHOUSE_DATA_DIR"], "outbox.key")); !os.IsNotExist(err) {
		t.Fatalf("a key file was made although GATEHOUSE_ENCRYPTION_KEY is set: %v", err)
	}

	mail.Restart(t)
	env2 := map[string]string{}
	for k, v := range env {
		env2[k] = v
	}
	env2["GATEHOUSE_DATA_DIR"] = t.TempDir()
	second := startServerEnv(t, env2)
	token := verifyLink(t, mail, a.Email)
	mail.ExpectNone(t, 300*time.Millisecond)
	expectStatus(t, second.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": token}), http.StatusOK)
}

// Past GATEHOUSE_OUTBOX_MAX_AGE a message is given up with an error in the log.
func TestOutboxGivesUp(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	mail.Stop()
	s := startServer(t, append(mailEnv(mail), "GATEHOUSE_OUTBOX_MAX_AGE=300ms")...)
	s.register(t)
	waitForLog(t, s, `level=ERROR msg="email given up"`)
	mail.Restart(t)
	mail.ExpectNone(t, 300*time.Millisecond)
}

// The database never holds a usable link: the outbox rows, and on SQLite every file of the data
// directory, are scanned for the tokens that arrived by email. The key that seals them is an
// owner-only file beside the database.
func TestOutboxNeverStoresTokensInPlainText(t *testing.T) {
	s, mail := startMailServer(t)
	a := s.register(t)
	verify := verifyLink(t, mail, a.Email)
	s.forgot(t, a.Email)
	reset := resetLink(t, mail, a.Email)
	waitForLog(t, s, "kind=reset_password")
	secrets := map[string]string{"verification token": verify, "reset token": reset}
	rows := s.sqlStrings(t, "SELECT subject || text_body || html_body || last_error FROM email_outbox")
	if len(rows) != 2 {
		t.Fatalf("%d outbox rows", len(rows))
	}
	for _, row := range rows {
		for name, secret := range secrets {
			if strings.Contains(row, secret) {
				t.Errorf("the %s is in the outbox", name)
			}
		}
	}
	if n := s.sqlStrings(t, "SELECT id FROM email_outbox WHERE secret IS NOT NULL"); len(n) != 0 {
		t.Errorf("sealed tokens outlived delivery: %v", n)
	}
	s.stop()
	dir := s.env["GATEHOUSE_DATA_DIR"]
	info, err := os.Stat(filepath.Join(dir, "outbox.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("outbox.key: %v %v", info, err)
	}
	if s.env["GATEHOUSE_DATABASE_URL"] != "" {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for name, secret := range secrets {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("the %s is in %s in plain text", name, e.Name())
			}
		}
	}
}

// Instances sharing a database (and GATEHOUSE_ENCRYPTION_KEY) all run outbox workers; each email
// goes out once, whichever instance queued it and whichever claims it.
func TestClusterSendsEachEmailOnce(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	mail.Stop()
	key := make([]byte, 32)
	rand.Read(key)
	env := with(clusterEnv(t), append(mailEnv(mail), "GATEHOUSE_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(key))...)
	nodes := []*testServer{startServerEnv(t, with(env, "GATEHOUSE_DATA_DIR="+t.TempDir())), startServerEnv(t, with(env, "GATEHOUSE_DATA_DIR="+t.TempDir()))}
	var accounts []*account
	for i := range 10 {
		accounts = append(accounts, nodes[i%2].register(t))
	}
	// Both workers fail and retry while the mail server is down, then race for every message.
	waitForLog(t, nodes[0], "email delivery failed; will retry")
	waitForLog(t, nodes[1], "email delivery failed; will retry")
	mail.Restart(t)
	for _, a := range accounts {
		verifyLink(t, mail, a.Email)
	}
	mail.ExpectNone(t, 500*time.Millisecond)
}

// Without GATEHOUSE_SMTP_URL, emails are written to the log in a marked block, links included,
// so the quick start works with nothing installed.
func TestDevMailerWritesEmailsToTheLog(t *testing.T) {
	s := startServer(t)
	a := s.register(t)
	waitForLog(t, s, "----- DEV EMAIL (GATEHOUSE_SMTP_URL unset) -----")
	waitForLog(t, s, "To: "+a.Email)
	m := regexp.MustCompile(`/verify-email\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(s.logs.String())
	if m == nil || !strings.Contains(s.logs.String(), s.URL+"/verify-email?token=") {
		t.Fatalf("no verification link on the public URL in the log:\n%s", s.logs.String())
	}
	expectStatus(t, s.do(t, "POST", "/api/v1/auth/verify-email", map[string]string{"token": m[1]}), http.StatusOK)
}

func TestTemplatesDir(t *testing.T) {
	dir := t.TempDir()
	custom := "Welcome aboard {{.Email}}! Confirm here: {{.Link}} (valid {{.ExpiresIn}}) -- {{.ProductName}}\n"
	if err := os.WriteFile(filepath.Join(dir, "verify_email.txt"), []byte(custom), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "verify_email.subject.txt"), []byte("Hi from {{.ProductName}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, mail := startMailServer(t, "GATEHOUSE_TEMPLATES_DIR="+dir, "GATEHOUSE_PRODUCT_NAME=Acme Cloud")
	a := s.register(t)
	m, link, _ := awaitMail(t, mail, a.Email, "/verify-email?token=")
	if m.Subject != "Hi from Acme Cloud" || !strings.HasPrefix(m.Text, "Welcome aboard "+a.Email+"! Confirm here: "+link+" (valid 24 hours) -- Acme Cloud") {
		t.Fatalf("custom template not used: %q\n%s", m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, "Acme Cloud") || !strings.Contains(m.HTML, link) {
		t.Fatalf("default HTML template:\n%s", m.HTML)
	}
}

// A broken template stops the server at start, naming the variable, rather than failing emails.
func TestBadEmailConfigurationStopsTheServer(t *testing.T) {
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "reset_password.txt"), []byte("no link here\n"), 0o600)
	misspelt := t.TempDir()
	os.WriteFile(filepath.Join(misspelt, "verify.txt"), []byte("{{.Link}}\n"), 0o600)
	unparsable := t.TempDir()
	os.WriteFile(filepath.Join(unparsable, "verify_email.html"), []byte("{{.Link\n"), 0o600)
	cases := []struct{ env, want, secret string }{
		{"GATEHOUSE_TEMPLATES_DIR=" + broken, "GATEHOUSE_TEMPLATES_DIR", ""},
		{"GATEHOUSE_TEMPLATES_DIR=" + misspelt, "verify.txt", ""},
		{"GATEHOUSE_TEMPLATES_DIR=" + unparsable, "GATEHOUSE_TEMPLATES_DIR", ""},
		{"GATEHOUSE_SMTP_URL=smtp://user:hunter2@mail.example.com?tls=maybe", "GATEHOUSE_SMTP_URL", "hunter2"},
		{"GATEHOUSE_SMTP_URL=http://mail.example.com", "GATEHOUSE_SMTP_URL", ""},
		{"GATEHOUSE_MAIL_FROM=not an address", "GATEHOUSE_MAIL_FROM", ""},
		{"GATEHOUSE_ENCRYPTION_KEY=c2hvcnQta2V5LXNlY3JldA==", "GATEHOUSE_ENCRYPTION_KEY", "c2hvcnQta2V5LXNlY3JldA=="},
		{"GATEHOUSE_OUTBOX_RETRY_MIN=0s", "GATEHOUSE_OUTBOX_RETRY_MIN", ""},
		{"GATEHOUSE_VERIFY_TOKEN_TTL=soon", "GATEHOUSE_VERIFY_TOKEN_TTL", ""},
	}
	for _, c := range cases {
		env := testEnv(t)
		k, v, _ := strings.Cut(c.env, "=")
		env[k] = v
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.env, err)
		} else if c.secret != "" && strings.Contains(err.Error(), c.secret) {
			t.Errorf("%s: the error shows the secret: %v", c.env, err)
		}
	}
}

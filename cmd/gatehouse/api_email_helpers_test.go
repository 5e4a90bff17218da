package main

import (
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/smtptest"
)

// testAppURL is where test servers' email links point; it is never the server's own address, so
// a link built from the request would show.
const testAppURL = "https://app.example.com"

// mailWait bounds every wait for an email: generous, since a receive with a deadline costs
// nothing when the email comes at once.
const mailWait = 15 * time.Second

// mailEnv is the configuration that sends a server's email to srv, retrying fast.
func mailEnv(srv *smtptest.Server) []string {
	return []string{
		"GATEHOUSE_SMTP_URL=" + srv.URL(),
		"GATEHOUSE_MAIL_FROM=Gatehouse Test <no-reply@gatehouse.test>",
		"GATEHOUSE_APP_URL=" + testAppURL,
		"GATEHOUSE_OUTBOX_RETRY_MIN=10ms",
		"GATEHOUSE_OUTBOX_RETRY_MAX=100ms",
	}
}

// startMailServer starts a gatehouse whose email goes to a test SMTP server of its own.
func startMailServer(t *testing.T, overrides ...string) (*testServer, *smtptest.Server) {
	t.Helper()
	mail := smtptest.Start(t, smtptest.Options{})
	return startServer(t, append(mailEnv(mail), overrides...)...), mail
}

// awaitMail waits for the email to `to` whose text has a link containing path, and returns the
// link and its token.
func awaitMail(t *testing.T, mail *smtptest.Server, to, path string) (*smtptest.Message, string, string) {
	t.Helper()
	m := mail.Await(t, mailWait, func(m *smtptest.Message) bool {
		return len(m.To) == 1 && m.To[0] == to && strings.Contains(m.Text, path)
	})
	link := m.Link(t, path)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return m, link, u.Query().Get("token")
}

func verifyLink(t *testing.T, mail *smtptest.Server, to string) string {
	t.Helper()
	_, link, token := awaitMail(t, mail, to, "/verify-email?token=")
	if !strings.HasPrefix(link, testAppURL+"/verify-email?token=") || len(token) < 22 {
		t.Fatalf("verification link %q", link)
	}
	return token
}

func resetLink(t *testing.T, mail *smtptest.Server, to string) string {
	t.Helper()
	_, link, token := awaitMail(t, mail, to, "/reset-password?token=")
	if !strings.HasPrefix(link, testAppURL+"/reset-password?token=") || len(token) < 22 {
		t.Fatalf("reset link %q", link)
	}
	return token
}

// awaitNotice waits for the "password was changed" email to `to`.
func awaitNotice(t *testing.T, mail *smtptest.Server, to string) *smtptest.Message {
	t.Helper()
	return mail.Await(t, mailWait, func(m *smtptest.Message) bool {
		return len(m.To) == 1 && m.To[0] == to && strings.Contains(m.Subject, "password was changed")
	})
}

// waitForLog polls the server's log until it contains substr.
func waitForLog(t *testing.T, s *testServer, substr string) {
	t.Helper()
	if s.logs.waitFor(substr, mailWait) {
		return
	}
	t.Fatalf("the log never showed %q:\n%s", substr, s.logs.String())
}

func (s *testServer) forgot(t *testing.T, email string) *response {
	t.Helper()
	r := s.do(t, "POST", "/api/v1/auth/forgot-password", map[string]string{"email": email})
	expectStatus(t, r, http.StatusOK)
	return r
}

func (s *testServer) reset(t *testing.T, token, password string) *response {
	t.Helper()
	return s.do(t, "POST", "/api/v1/auth/reset-password", map[string]string{"token": token, "new_password": password})
}

// openDB opens the server's database behind its back, for tests that age or inspect rows.
func (s *testServer) openDB(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(s.env["GATEHOUSE_DATA_DIR"], "gatehouse.db")
	if u, ok := strings.CutPrefix(s.env["GATEHOUSE_DATABASE_URL"], "sqlite:"); ok {
		path = u
	}
	driver, dsn := "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
	if u := s.env["GATEHOUSE_DATABASE_URL"]; strings.HasPrefix(u, "postgres") {
		driver, dsn = "pgx", u
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// sqlExec runs a statement on the server's database.
func (s *testServer) sqlExec(t *testing.T, query string) {
	t.Helper()
	db := s.openDB(t)
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

// sqlStrings runs a query returning one text column on the server's database.
func (s *testServer) sqlStrings(t *testing.T, query string) []string {
	t.Helper()
	db := s.openDB(t)
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

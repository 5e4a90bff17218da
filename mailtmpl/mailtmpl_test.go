package mailtmpl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestDefaults(t *testing.T) {
	s, err := Load("", "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	link := "https://app.example.com/reset-password?token=abc_DEF-123"
	c, err := s.Render(gatehouse.EmailReset, gatehouse.EmailData{Email: "a@example.com", AppURL: "https://app.example.com", Link: link, ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "Reset your Gatehouse password" {
		t.Fatalf("subject %q", c.Subject)
	}
	for _, body := range []string{c.Text, c.HTML} {
		if !strings.Contains(body, link) || !strings.Contains(body, "1 hour") || !strings.Contains(body, "a@example.com") {
			t.Fatalf("body:\n%s", body)
		}
	}
	for _, kind := range gatehouse.EmailKinds {
		if _, err := s.Render(kind, gatehouse.EmailData{Email: "a@example.com", AppURL: "https://app.example.com"}); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
}

func TestHTMLIsEscaped(t *testing.T) {
	s, err := Load("", `Acme <script>`)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Render(gatehouse.EmailVerify, gatehouse.EmailData{Email: `x"><img src=x>@example.com`, AppURL: "https://app.example.com",
		Link: "javascript:alert(1)", ExpiresIn: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.HTML, "<script>") || strings.Contains(c.HTML, "<img") || strings.Contains(c.HTML, `href="javascript:`) {
		t.Fatalf("unescaped HTML:\n%s", c.HTML)
	}
}

func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "password_changed.txt"), []byte("Changed for {{.Email}}.\n"), 0o600)
	os.WriteFile(filepath.Join(dir, ".hidden"), []byte("ignored"), 0o600)
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	s, err := Load(dir, "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Render(gatehouse.EmailPasswordChanged, gatehouse.EmailData{Email: "a@example.com", AppURL: "https://app.example.com"})
	if err != nil || c.Text != "Changed for a@example.com.\n" || !strings.Contains(c.HTML, "a@example.com") {
		t.Fatalf("%v %+v", err, c)
	}
	bad := map[string]string{
		"verify_email.txt":         "no link\n",                    // a link email without its link
		"reset_password.html":      "<p>{{.Nope}}</p>",             // unknown field
		"verify_email.subject.txt": "two\nlines",                   // a header cannot span lines
		"welcome.txt":              "{{.Link}}",                    // not a template name
		"password_changed.html":    "{{if}}",                       // does not parse
		"reset_password.txt":       "{{.Link}} {{template \"x\"}}", // execution fails
	}
	for name, body := range bad {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, name), []byte(body), 0o600)
		if _, err := Load(d, "Gatehouse"); err == nil {
			t.Errorf("%s %q accepted", name, body)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing"), "Gatehouse"); err == nil {
		t.Error("a missing directory was accepted")
	}
}

func TestInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24 hours", time.Hour: "1 hour", 30 * time.Minute: "30 minutes",
		time.Minute: "1 minute", 72 * time.Hour: "3 days", 90 * time.Second: "1m30s", 0: ""} {
		if got := inWords(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

// The sign-in email shows its code in both bodies and never in the subject (subjects are stored
// in plain text in the outbox); an override that breaks either rule stops the start.
func TestSignInCodeTemplates(t *testing.T) {
	s, err := Load("", "Gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Render(gatehouse.EmailSignInMail, gatehouse.EmailData{Email: "a@example.com", AppURL: "https://app.example.com",
		Link: "https://app.example.com/email-sign-in/link?token=abc", Code: "12345678", ExpiresIn: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Text, "12345678") || !strings.Contains(c.HTML, "12345678") || strings.Contains(c.Subject, "12345678") ||
		!strings.Contains(c.Text, "10 minutes") {
		t.Fatalf("sign-in email: %q\n%s\n%s", c.Subject, c.Text, c.HTML)
	}
	for name, body := range map[string]string{
		"email_sign_in.txt":         "Open {{.Link}}\n",
		"email_sign_in.subject.txt": "Your code {{.Code}}\n",
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
		if _, err := Load(dir, "Gatehouse"); err == nil || !strings.Contains(err.Error(), "{{.Code}}") {
			t.Fatalf("%s %q: %v", name, body, err)
		}
	}
}

// Package mailtmpl renders Gatehouse's emails from templates: a subject, a plain-text body and an
// HTML body for each kind of email. The defaults are embedded; an operator may replace any of the
// files from a directory (GATEHOUSE_TEMPLATES_DIR).
package mailtmpl

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/gatehouse/gatehouse"
)

//go:embed templates/*
var defaults embed.FS

// View is what a template sees. Link and AppURL come from configuration (GATEHOUSE_APP_URL),
// never from a request.
type View struct {
	ProductName string
	Email       string // the recipient
	AppURL      string
	Link        string // the action link; empty in notices
	ExpiresIn   string // how long Link works, in words ("24 hours")
	Code        string // the one-time sign-in code (email_sign_in only)
	// Provider and CredentialsRevoked are set in identity_linked notices: the provider's label
	// ("GitHub"), and whether linking it removed the password and revoked sessions and API keys.
	Provider           string
	CredentialsRevoked bool
}

// Set is the loaded templates; it implements gatehouse.EmailRenderer.
type Set struct {
	product string
	kinds   map[gatehouse.EmailKind]*kindTemplates
}

type kindTemplates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// FileNames lists the files of one kind: subject, text body, HTML body.
func FileNames(kind gatehouse.EmailKind) []string {
	k := string(kind)
	return []string{k + ".subject.txt", k + ".txt", k + ".html"}
}

// Load parses the templates: each file from dir when dir has it, the embedded default otherwise.
// It renders every kind once with sample data, so a broken override stops the server at start
// rather than failing an email later; a file in dir that is not a template name is an error too,
// since a misspelt override would otherwise be silently ignored.
func Load(dir, productName string) (*Set, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	s := &Set{product: productName, kinds: map[gatehouse.EmailKind]*kindTemplates{}}
	for _, kind := range gatehouse.EmailKinds {
		names := FileNames(kind)
		var src [3]string
		for i, name := range names {
			b, err := read(dir, name)
			if err != nil {
				return nil, err
			}
			src[i] = b
		}
		kt := &kindTemplates{}
		var err error
		if kt.subject, err = texttemplate.New(names[0]).Option("missingkey=error").Parse(src[0]); err != nil {
			return nil, err
		}
		if kt.text, err = texttemplate.New(names[1]).Option("missingkey=error").Parse(src[1]); err != nil {
			return nil, err
		}
		if kt.html, err = htmltemplate.New(names[2]).Option("missingkey=error").Parse(src[2]); err != nil {
			return nil, err
		}
		s.kinds[kind] = kt
		if err := s.check(kind); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func read(dir, name string) (string, error) {
	if dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	b, err := defaults.ReadFile("templates/" + name)
	return string(b), err
}

func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var known []string
	for _, kind := range gatehouse.EmailKinds {
		known = append(known, FileNames(kind)...)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !slices.Contains(known, e.Name()) {
			return fmt.Errorf("%s is not a template name; known names: %s", e.Name(), strings.Join(known, ", "))
		}
	}
	return nil
}

// sampleLink and sampleCode stand for a link and a code in the start-up check.
const (
	sampleLink = "https://app.example/check?token=SAMPLE"
	sampleCode = "SAMPLECODE"
)

// check renders kind with sample data: it must render, its subject must be one line, and a kind
// that carries a link must show it in both bodies.
func (s *Set) check(kind gatehouse.EmailKind) error {
	data := gatehouse.EmailData{Email: "user@example.com", AppURL: "https://app.example", Provider: "GitHub", CredentialsRevoked: true}
	if kind.HasLink() {
		data.Link, data.ExpiresIn = sampleLink, time.Hour
	}
	if kind.HasCode() {
		data.Code = sampleCode
	}
	c, err := s.Render(kind, data)
	if err != nil {
		return err
	}
	if data.Link != "" && (!strings.Contains(c.Text, sampleLink) || !strings.Contains(c.HTML, sampleLink)) {
		return fmt.Errorf("templates of %s must show {{.Link}} in both the text and the HTML body", kind)
	}
	if data.Code != "" && (!strings.Contains(c.Text, sampleCode) || !strings.Contains(c.HTML, sampleCode) || strings.Contains(c.Subject, sampleCode)) {
		return fmt.Errorf("templates of %s must show {{.Code}} in both the text and the HTML body, and not in the subject", kind)
	}
	return nil
}

// Render renders one email.
func (s *Set) Render(kind gatehouse.EmailKind, data gatehouse.EmailData) (*gatehouse.EmailContent, error) {
	kt, ok := s.kinds[kind]
	if !ok {
		return nil, fmt.Errorf("mailtmpl: no templates for %q", kind)
	}
	v := View{ProductName: s.product, Email: data.Email, AppURL: data.AppURL, Link: data.Link, ExpiresIn: inWords(data.ExpiresIn), Code: data.Code,
		Provider: data.Provider, CredentialsRevoked: data.CredentialsRevoked}
	var subject, text, html bytes.Buffer
	if err := kt.subject.Execute(&subject, v); err != nil {
		return nil, err
	}
	if err := kt.text.Execute(&text, v); err != nil {
		return nil, err
	}
	if err := kt.html.Execute(&html, v); err != nil {
		return nil, err
	}
	subj := strings.TrimSpace(subject.String())
	if subj == "" || strings.ContainsAny(subj, "\r\n") {
		return nil, fmt.Errorf("%s: the subject must be one non-empty line", FileNames(kind)[0])
	}
	return &gatehouse.EmailContent{Subject: subj, Text: text.String(), HTML: html.String()}, nil
}

// inWords says a link lifetime the way a person would: "24 hours", "1 hour", "30 minutes".
func inWords(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d <= 0:
		return ""
	case d%(24*time.Hour) == 0 && d > 24*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return d.String()
}

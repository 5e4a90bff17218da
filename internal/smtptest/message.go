package smtptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

// Message is one received email, with its bodies decoded.
type Message struct {
	From    string   // envelope sender
	To      []string // envelope recipients
	Raw     []byte
	Header  mail.Header
	Subject string // decoded
	Text    string // the text/plain part
	HTML    string // the text/html part
}

// Parse reads a MIME message: a single part, or multipart (alternative, mixed, nested).
func Parse(raw []byte) (*Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m := &Message{Raw: raw, Header: msg.Header}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, err
	}
	if err := m.readPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) readPart(contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.readPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text += string(data)
	case "text/html":
		m.HTML += string(data)
	}
	return nil
}

// newlineStripper drops the line breaks of base64 bodies.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

var linkPattern = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Links returns every URL in the text body.
func (m *Message) Links() []string { return linkPattern.FindAllString(m.Text, -1) }

// Link returns the URL of the text body that contains part, checking that the HTML body carries
// the same link (as HTML writes it: "&" as "&amp;"); the test fails otherwise.
func (m *Message) Link(t testing.TB, part string) string {
	t.Helper()
	for _, l := range m.Links() {
		if strings.Contains(l, part) {
			if !strings.Contains(m.HTML, l) && !strings.Contains(m.HTML, html.EscapeString(l)) {
				t.Fatalf("smtptest: link %s is in the text body but not the HTML body:\n%s", l, m.HTML)
			}
			return l
		}
	}
	t.Fatalf("smtptest: no link containing %q in:\n%s", part, m.Text)
	return ""
}

// String summarises the message for failure output.
func (m *Message) String() string { return fmt.Sprintf("to %v: %q", m.To, m.Subject) }

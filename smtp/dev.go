package smtp

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse"
)

// DevBanner opens each email the development mailer writes.
const DevBanner = "----- DEV EMAIL (GATEHOUSE_SMTP_URL unset) -----"

// DevMailer stands in for SMTP when GATEHOUSE_SMTP_URL is unset: it writes each email, plain-text
// body and all (links included, so the quick start works with nothing installed), to the server's
// log output in a clearly marked block. Not for production: the log then holds live links.
type DevMailer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewDevMailer writes to w.
func NewDevMailer(w io.Writer) *DevMailer { return &DevMailer{w: w} }

// Send writes e in one Write, so that concurrent log lines do not land inside the block.
func (d *DevMailer) Send(_ context.Context, e *gatehouse.OutgoingEmail) error {
	var b strings.Builder
	b.WriteString("\n" + DevBanner + "\n")
	b.WriteString("To: " + e.To + "\n")
	b.WriteString("Subject: " + e.Subject + "\n\n")
	b.WriteString(strings.TrimRight(e.Text, "\n") + "\n")
	b.WriteString("----- END DEV EMAIL -----\n\n")
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := io.WriteString(d.w, b.String())
	return err
}

package breach

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// DefaultAPIURL is the Pwned Passwords range API.
const DefaultAPIURL = "https://api.pwnedpasswords.com"

// maxRangeBody bounds a range answer; a padded one is about 40 KiB.
const maxRangeBody = 4 << 20

// Online asks the Pwned Passwords range API (k-anonymity: only the first 5 hex digits of the
// password's SHA-1 leave the process; the answer lists every suffix with that prefix, padded
// with decoys so its size says nothing either).
type Online struct {
	URL      string        // base URL; /range/{prefix} is appended
	Client   *http.Client  // nil: a client of its own
	Timeout  time.Duration // per lookup; 0: 2s
	FailOpen bool          // an unreachable API lets the password through (logged) instead of refusing
	Log      *slog.Logger
}

// Breached implements gatehouse.BreachChecker. When the API cannot answer it returns
// (false, nil) with a warning logged if FailOpen, else gatehouse.ErrBreachCheckUnavailable.
func (o *Online) Breached(ctx context.Context, password string) (bool, error) {
	found, err := o.lookup(ctx, password)
	if err == nil {
		return found, nil
	}
	if o.FailOpen {
		if o.Log != nil {
			o.Log.WarnContext(ctx, "breached-password check unavailable; password accepted unchecked (GATEHOUSE_BREACH_FAIL=open)", "error", err)
		}
		return false, nil
	}
	if o.Log != nil {
		o.Log.WarnContext(ctx, "breached-password check unavailable; password refused for now (GATEHOUSE_BREACH_FAIL=closed)", "error", err)
	}
	e := *gatehouse.ErrBreachCheckUnavailable
	e.Err = err
	return false, &e
}

func (o *Online) lookup(ctx context.Context, password string) (bool, error) {
	sum := sha1.Sum([]byte(password))
	full := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := full[:5], full[5:]
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base := strings.TrimRight(o.URL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/range/"+prefix, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", "gatehouse")
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("range API answered %s", resp.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, maxRangeBody))
	found := false
	for sc.Scan() {
		s, c, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok || !strings.EqualFold(s, suffix) {
			continue
		}
		// Padding entries have a count of 0: they are not breached passwords.
		if n, err := strconv.ParseUint(strings.TrimSpace(c), 10, 64); err == nil && n > 0 {
			found = true
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return false, ctx.Err()
	}
	return found, nil
}

package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/breach"
	"github.com/gatehouse/gatehouse/password"
)

// breachConfig is the breached-password check (GATEHOUSE_BREACH_*).
type breachConfig struct {
	Mode    string        // embedded, offline or online
	File    string        // the offline filter file
	APIURL  string        // the online range API
	Timeout time.Duration // per online lookup
	Fail    string        // open or closed: what an online outage does
}

// defaultBreachFile is where `gatehouse breach import` writes and offline mode reads by default.
const defaultBreachFile = "breached-passwords.filter"

func loadBreachConfig(getenv func(string) string, dataDir string) (breachConfig, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	b := breachConfig{
		Mode:   strings.ToLower(env("GATEHOUSE_BREACH_CHECK", "embedded")),
		File:   env("GATEHOUSE_BREACH_FILE", filepath.Join(dataDir, defaultBreachFile)),
		APIURL: strings.TrimRight(env("GATEHOUSE_BREACH_API_URL", breach.DefaultAPIURL), "/"),
		Fail:   strings.ToLower(env("GATEHOUSE_BREACH_FAIL", "open")),
	}
	switch b.Mode {
	case "embedded", "offline", "online":
	default:
		return b, &configError{"GATEHOUSE_BREACH_CHECK", b.Mode, "want embedded, offline or online"}
	}
	switch b.Fail {
	case "open", "closed":
	default:
		return b, &configError{"GATEHOUSE_BREACH_FAIL", b.Fail, "want open or closed"}
	}
	timeout := env("GATEHOUSE_BREACH_TIMEOUT", "2s")
	d, err := time.ParseDuration(timeout)
	if err != nil || d <= 0 || d > time.Minute {
		return b, &configError{"GATEHOUSE_BREACH_TIMEOUT", timeout, "want a Go duration from 1ms to 1m, such as 2s"}
	}
	b.Timeout = d
	if u := b.APIURL; !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return b, &configError{"GATEHOUSE_BREACH_API_URL", u, "want an absolute http(s) URL, such as " + breach.DefaultAPIURL}
	}
	return b, nil
}

// breachChecker is the check in effect and what to release at exit.
type breachChecker struct {
	checker gatehouse.BreachChecker
	filter  *breach.Filter // offline mode
}

func (b *breachChecker) Close() {
	if b != nil && b.filter != nil {
		b.filter.Close()
	}
}

// openBreachChecker builds the configured check. Offline mode opens and verifies the filter
// file now, so a missing or damaged file stops the process at start with one line.
func openBreachChecker(cfg *config, log *slog.Logger) (*breachChecker, error) {
	b := cfg.Breach
	switch b.Mode {
	case "offline":
		f, err := breach.Open(b.File)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_BREACH_CHECK=offline: cannot use the filter file GATEHOUSE_BREACH_FILE=%q: %v (build it with `gatehouse breach import`)", b.File, err)
		}
		log.Debug("breached-password filter loaded", "file", b.File, "hashes", f.Count())
		return &breachChecker{checker: password.CommonList{Next: f}, filter: f}, nil
	case "online":
		return &breachChecker{checker: password.CommonList{Next: &breach.Online{
			URL:      b.APIURL,
			Client:   &http.Client{Timeout: b.Timeout},
			Timeout:  b.Timeout,
			FailOpen: b.Fail == "open",
			Log:      log,
		}}}, nil
	}
	return &breachChecker{checker: password.CommonList{}}, nil
}

func (c *cli) breachCommand() *cobra.Command {
	var out string
	var minCount uint64
	imp := &cobra.Command{
		Use:   "import [--out FILE] [--min-count N] SOURCE...",
		Short: "Build the offline breached-password filter from Pwned Passwords SHA-1 files",
		Long: `Build the filter file that GATEHOUSE_BREACH_CHECK=offline reads, from Pwned Passwords SHA-1 data.

Each SOURCE is a file or a directory (read recursively). Lines are HASH:COUNT: either the 40 hex
digits of a SHA-1 (a combined download), or the 35-digit suffix of a range answer
(api.pwnedpasswords.com/range/XXXXX), in a file whose name starts with its 5-digit prefix, such as
0A1B2 or 0A1B2.txt (the layout the PwnedPasswordsDownloader tool writes). Padding lines (count 0)
are skipped.

The filter is a binary fuse filter with 32-bit fingerprints: about 4.5 bytes per hash, a
false-positive rate of 2^-32 (about 2.3e-10), lookups in well under a microsecond from a
memory-mapped file. Building it holds about 40 bytes per hash in memory (some 40 GB for the full
corpus of about a billion hashes; --min-count leaves out the rarest). The file is written beside
its destination and renamed into place, so a running server's file is never half-written; restart
the server to use a new one.`,
		Example: `  gatehouse breach import --out /var/lib/gatehouse/breached-passwords.filter ./pwnedpasswords/
  GATEHOUSE_BREACH_CHECK=offline gatehouse serve`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("breach import: name at least one file or directory of Pwned Passwords SHA-1 hashes (see %s --help)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := c.config()
			if err != nil {
				return err
			}
			if out == "" {
				out = cfg.Breach.File
			}
			start := time.Now()
			keys, st, err := breach.Import(args, breach.ImportOptions{MinCount: minCount})
			if err != nil {
				return fmt.Errorf("breach import: %v", err)
			}
			if dir := filepath.Dir(out); dir != "" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("breach import: %v", err)
				}
			}
			n, err := breach.WriteFilter(out, keys)
			if err != nil {
				return fmt.Errorf("breach import: %v", err)
			}
			info, err := os.Stat(out)
			if err != nil {
				return fmt.Errorf("breach import: %v", err)
			}
			fmt.Fprintf(c.stdout, "read %d lines from %d files (%d skipped); wrote %d distinct hashes to %s (%.1f MiB, false-positive rate %.1e) in %s\n",
				st.Lines, st.Files, st.Skipped, n, out, float64(info.Size())/(1<<20), breach.FalsePositiveRate, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	imp.Flags().StringVar(&out, "out", "", "the filter file to write (default GATEHOUSE_BREACH_FILE, or breached-passwords.filter in the data dir)")
	imp.Flags().Uint64Var(&minCount, "min-count", 0, "leave out hashes seen fewer times than this in breaches")
	return group("breach", "Manage the breached-password check (GATEHOUSE_BREACH_CHECK)", imp)
}

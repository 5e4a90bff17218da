package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

// cli is one invocation of the program: where its configuration comes from and where it writes.
type cli struct {
	ctx            context.Context
	env            environment
	stdout, stderr io.Writer
	verbose        bool // --verbose
}

// config loads the configuration and warns about GATEHOUSE_* variables it does not know.
func (c *cli) config() (*config, error) {
	cfg, err := loadConfig(c.env.get)
	if err != nil {
		return nil, err
	}
	warnUnknownVariables(c.logger(cfg), c.env)
	return cfg, nil
}

// logger is the one-shot commands' logger: warnings and errors only, unless --verbose.
func (c *cli) logger(cfg *config) *slog.Logger {
	quiet := *cfg
	if !c.verbose {
		var level slog.Level
		if level.UnmarshalText([]byte(cfg.LogLevel)) != nil || level < slog.LevelWarn {
			quiet.LogLevel = "warn"
		}
	}
	return newLogger(&quiet, c.stderr)
}

// openMode says whether a command may create the database.
type openMode int

const (
	existingDatabase openMode = iota // refuse when there is none: users, keys, sessions, ...
	createDatabase                   // serve, migrate and init
)

// open opens the app for a one-shot command.
func (c *cli) open(mode openMode) (*app, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	if mode == existingDatabase {
		if err := requireDatabase(c.ctx, cfg); err != nil {
			return nil, err
		}
	}
	if c.verbose {
		fmt.Fprintf(c.stderr, "gatehouse: database %s\n", describeDatabase(cfg))
	}
	cfg.resolvePublicURL(cfg.Addr)
	a, err := openApp(c.ctx, cfg, c.logger(cfg), nil)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// openForUser opens the app for a command about one account, found by the address its --email
// flag (required) names.
func (c *cli) openForUser(cmd *cobra.Command, email string) (*app, *gatehouse.User, error) {
	if err := required(cmd, "email"); err != nil {
		return nil, nil, err
	}
	a, err := c.open(existingDatabase)
	if err != nil {
		return nil, nil, err
	}
	u, err := a.userByEmail(c.ctx, email)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, u, nil
}

// userByEmail finds an account; not finding it names the database, the likeliest reason being
// that the command reads another one than the server.
func (a *app) userByEmail(ctx context.Context, email string) (*gatehouse.User, error) {
	u, err := a.auth.UserByEmail(ctx, email)
	if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
		return nil, fmt.Errorf("no user %s in database %s", gatehouse.NormalizeEmail(email), describeDatabase(a.cfg))
	}
	if err != nil {
		return nil, cliError(err)
	}
	return u, nil
}

// required checks that the flags named have values.
func required(cmd *cobra.Command, names ...string) error {
	for _, name := range names {
		if f := cmd.Flags().Lookup(name); f != nil && strings.TrimSpace(f.Value.String()) == "" {
			return fmt.Errorf("%s: --%s is required (see %s --help)", commandName(cmd), name, cmd.CommandPath())
		}
	}
	return nil
}

// completeNothing offers no completion (rather than file names), for --email and the like.
func completeNothing(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func completeWords(words ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return words, cobra.ShellCompDirectiveNoFileComp
	}
}

// emailFlag adds the required --email flag.
func emailFlag(cmd *cobra.Command, v *string, usage string) {
	cmd.Flags().StringVar(v, "email", "", usage)
	_ = cmd.RegisterFlagCompletionFunc("email", completeNothing)
}

func (c *cli) serveCommand() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT]",
		Short: "Run the server; creates and migrates the database if needed",
		Long: `Run the server: the API, the dashboard and /metrics on one listener (GATEHOUSE_ADDR, default
127.0.0.1:8080). It creates and migrates the database if needed, prints "gatehouse listening on
http://HOST:PORT" once it is ready, and on SIGTERM or SIGINT finishes in-flight requests before
exiting.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config()
			if err != nil {
				return err
			}
			if addr != "" {
				if err := checkListenAddr("--addr", addr); err != nil {
					return err
				}
				cfg.Addr = addr
			}
			if c.verbose {
				fmt.Fprintf(c.stderr, "gatehouse: database %s\n", describeDatabase(cfg))
			}
			return serve(c.ctx, cfg, c.stdout, c.stderr)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen address, such as 127.0.0.1:8080 or :8080 (overrides GATEHOUSE_ADDR)")
	return cmd
}

func (c *cli) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the database, or bring its schema up to date, and exit",
		Long: `Create the database, or bring its schema up to date, and exit.

The server migrates at start too; run this to migrate ahead of a deployment, or to create an
empty database (with its first signing key) without starting the server.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.open(createDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			fmt.Fprintf(c.stdout, "database %s is up to date\n", describeDatabase(a.cfg))
			return nil
		},
	}
}

func (c *cli) usersCommand() *cobra.Command {
	var email, password, name, role string
	create := &cobra.Command{
		Use:     "create --email E --password P [--name N] [--role admin|user]",
		Short:   "Create an account (verified, with the password given)",
		Example: `  gatehouse users create --email admin@example.com --password 'a long passphrase' --role admin`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "email", "password"); err != nil {
				return err
			}
			if !gatehouse.ValidRole(role) {
				return fmt.Errorf("users create: --role must be admin or user, not %q", role)
			}
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			u, err := a.auth.CreateUser(c.ctx, gatehouse.RegisterInput{Email: email, Password: password, Name: name}, role, true)
			if gatehouse.ErrorCodeOf(err) == gatehouse.ErrEmailTaken.Code {
				return fmt.Errorf("users create: %s already has an account", gatehouse.NormalizeEmail(email))
			} else if err != nil {
				return fmt.Errorf("users create: %w", cliError(err))
			}
			fmt.Fprintf(c.stdout, "created user %s (%s, role %s)\n", u.ID, u.Email, u.Role)
			return nil
		},
	}
	emailFlag(create, &email, "the account's email address (required)")
	create.Flags().StringVar(&password, "password", "", "the account's password (required)")
	create.Flags().StringVar(&name, "name", "", "display name")
	create.Flags().StringVar(&role, "role", gatehouse.RoleUser, "user or admin")
	_ = create.RegisterFlagCompletionFunc("role", completeWords(gatehouse.RoleUser, gatehouse.RoleAdmin))

	var setRoleEmail, newRole string
	setRole := &cobra.Command{
		Use:   "set-role --email E --role admin|user",
		Short: "Make an account an admin, or a user again",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "email", "role"); err != nil {
				return err
			}
			if !gatehouse.ValidRole(newRole) {
				return fmt.Errorf("users set-role: --role must be admin or user, not %q", newRole)
			}
			a, u, err := c.openForUser(cmd, setRoleEmail)
			if err != nil {
				return err
			}
			defer a.Close()
			if u, err = a.auth.UpdateUser(c.ctx, gatehouse.Operator, u.ID, gatehouse.AdminUserUpdate{Role: &newRole}); err != nil {
				return fmt.Errorf("users set-role: %w", cliError(err))
			}
			fmt.Fprintf(c.stdout, "%s is now %s\n", u.Email, u.Role)
			return nil
		},
	}
	emailFlag(setRole, &setRoleEmail, "the account's email address (required)")
	setRole.Flags().StringVar(&newRole, "role", "", "admin or user (required)")
	_ = setRole.RegisterFlagCompletionFunc("role", completeWords(gatehouse.RoleUser, gatehouse.RoleAdmin))

	list := &cobra.Command{
		Use:   "list",
		Short: "List every account, oldest first",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tEMAIL\tROLE\tSTATUS\tVERIFIED\tCREATED")
			cursor := ""
			for {
				page, err := a.auth.ListUsers(c.ctx, cursor, gatehouse.MaxPageSize)
				if err != nil {
					return fmt.Errorf("users list: %w", cliError(err))
				}
				for _, u := range page.Users {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, status(u.IsActive), yesNo(u.EmailVerified), day(u.CreatedAt))
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			return w.Flush()
		},
	}

	activation := func(enable bool) *cobra.Command {
		var email string
		verb, use, short := "disable", "disable --email E", "Disable an account: its sessions and API keys are revoked at once"
		if enable {
			verb, use, short = "enable", "enable --email E", "Enable a disabled account again (its old sessions and keys stay revoked)"
		}
		cmd := &cobra.Command{
			Use:   use,
			Short: short,
			RunE: func(cmd *cobra.Command, _ []string) error {
				a, u, err := c.openForUser(cmd, email)
				if err != nil {
					return err
				}
				defer a.Close()
				if u.IsActive == enable {
					return fmt.Errorf("users %s: %s is already %s", verb, u.Email, status(enable))
				}
				// The admin API's own rule: disabling revokes every session and API key.
				if u, err = a.auth.UpdateUser(c.ctx, gatehouse.Operator, u.ID, gatehouse.AdminUserUpdate{IsActive: &enable}); err != nil {
					return fmt.Errorf("users %s: %w", verb, cliError(err))
				}
				if enable {
					fmt.Fprintf(c.stdout, "%s is enabled again; sessions and API keys revoked when it was disabled stay revoked\n", u.Email)
				} else {
					fmt.Fprintf(c.stdout, "%s is disabled; its sessions and API keys are revoked\n", u.Email)
				}
				return nil
			},
		}
		emailFlag(cmd, &email, "the account's email address (required)")
		return cmd
	}
	return group("users", "Create, list, promote, disable and enable accounts", create, list, setRole, activation(false), activation(true))
}

func (c *cli) sessionsCommand() *cobra.Command {
	var listEmail string
	list := &cobra.Command{
		Use:   "list --email E",
		Short: "List an account's active sessions, newest first",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, u, err := c.openForUser(cmd, listEmail)
			if err != nil {
				return err
			}
			defer a.Close()
			sessions, err := a.auth.ListSessionsOf(c.ctx, u.ID)
			if err != nil {
				return fmt.Errorf("sessions list: %w", cliError(err))
			}
			w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tCREATED\tLAST USED\tEXPIRES\tIP\tUSER AGENT")
			for _, s := range sessions {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, minute(s.CreatedAt), minute(s.LastUsedAt), minute(s.ExpiresAt), dash(s.IP), dash(truncate(s.UserAgent, 60)))
			}
			return w.Flush()
		},
	}
	emailFlag(list, &listEmail, "the account's email address (required)")

	var revokeEmail, id string
	revoke := &cobra.Command{
		Use:   "revoke --email E [--id ID]",
		Short: "Revoke every session of an account, or only the one --id names",
		Long: `Revoke every active session of an account, or only the one --id names (IDs from
"gatehouse sessions list"). Their refresh tokens and access tokens stop working at once.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, u, err := c.openForUser(cmd, revokeEmail)
			if err != nil {
				return err
			}
			defer a.Close()
			revoked, err := a.auth.RevokeSessionsOf(c.ctx, u.ID, strings.TrimSpace(id))
			if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
				return fmt.Errorf("sessions revoke: %s has no active session %s (see gatehouse sessions list --email %s)", u.Email, id, u.Email)
			} else if err != nil {
				return fmt.Errorf("sessions revoke: %w", cliError(err))
			}
			switch {
			case id != "":
				fmt.Fprintf(c.stdout, "revoked session %s of %s\n", id, u.Email)
			case len(revoked) == 0:
				fmt.Fprintf(c.stdout, "%s has no active sessions; nothing revoked\n", u.Email)
			default:
				fmt.Fprintf(c.stdout, "revoked %s of %s\n", gatehouse.CountNoun(len(revoked), "session"), u.Email)
			}
			return nil
		},
	}
	emailFlag(revoke, &revokeEmail, "the account's email address (required)")
	revoke.Flags().StringVar(&id, "id", "", "revoke only this session")
	return group("sessions", "List and revoke an account's sessions", list, revoke)
}

func (c *cli) auditCommand() *cobra.Command {
	var email, eventType string
	var limit int
	tail := &cobra.Command{
		Use:   "tail [--user EMAIL] [--type TYPE] [--limit N]",
		Short: "Print the latest security events, oldest first",
		Example: `  gatehouse audit tail --limit 50
  gatehouse audit tail --user alice@example.com --type login.failed`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 10000 {
				return fmt.Errorf("audit tail: --limit must be from 1 to 10000, not %d", limit)
			}
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			f := gatehouse.AuditFilter{Type: eventType}
			if email != "" {
				u, err := a.userByEmail(c.ctx, email)
				if err != nil {
					return fmt.Errorf("audit tail: %w", err)
				}
				f.UserID = u.ID
			}
			var events []*gatehouse.AuditEvent
			for len(events) < limit {
				f.Limit = min(limit-len(events), gatehouse.MaxPageSize)
				page, next, err := a.auth.AuditLog(c.ctx, f)
				if err != nil {
					return fmt.Errorf("audit tail: %w", cliError(err))
				}
				events = append(events, page...)
				if next == "" {
					break
				}
				f.BeforeID = next
			}
			emails := map[string]string{}
			emailOf := func(id string) string {
				if id == "" {
					return "-"
				}
				if e, ok := emails[id]; ok {
					return e
				}
				e := id
				if u, err := a.auth.User(c.ctx, id); err == nil {
					e = u.Email
				}
				emails[id] = e
				return e
			}
			w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "TIME\tEVENT\tOUTCOME\tUSER\tIP\tDETAIL")
			for i := len(events) - 1; i >= 0; i-- { // newest last, as tail does
				e := events[i]
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Type, e.Outcome, emailOf(e.UserID), dash(e.IP), dash(e.Detail))
			}
			return w.Flush()
		},
	}
	tail.Flags().StringVar(&email, "user", "", "only this account's events (email address)")
	tail.Flags().StringVar(&eventType, "type", "", "only events of this type, such as login.failed or user.disabled")
	tail.Flags().IntVar(&limit, "limit", 20, "how many events")
	_ = tail.RegisterFlagCompletionFunc("user", completeNothing)
	_ = tail.RegisterFlagCompletionFunc("type", completeWords(
		gatehouse.EventRegistered, gatehouse.EventLoginSucceeded, gatehouse.EventLoginFailed, gatehouse.EventRefreshed,
		gatehouse.EventRefreshReuse, gatehouse.EventLoggedOut, gatehouse.EventSessionRevoked, gatehouse.EventPasswordChanged,
		gatehouse.EventPasswordReset, gatehouse.EventEmailVerified, gatehouse.EventOAuthLinked, gatehouse.EventOAuthUnlinked,
		gatehouse.EventAPIKeyCreated, gatehouse.EventAPIKeyRevoked, gatehouse.EventRoleChanged, gatehouse.EventAccountDisabled,
		gatehouse.EventAccountEnabled, gatehouse.EventProfileUpdated, gatehouse.EventCreditsGranted, gatehouse.EventRateLimited))
	return group("audit", "Read the security audit log", tail)
}

func (c *cli) signingKeysCommand() *cobra.Command {
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new signing key; running servers sign with it within 10 seconds",
		Long: `Add a new signing key. It is published in the JWKS at once, and running servers sign with it
within 10 seconds, without a restart. Old public keys stay published until every token they
signed has expired, so no session is cut short.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.addSigningKey(c.ctx); err != nil {
				return fmt.Errorf("signing-keys rotate: %w", err)
			}
			if err := a.tokens.Reload(c.ctx); err != nil {
				return fmt.Errorf("signing-keys rotate: %w", err)
			}
			fmt.Fprintf(c.stdout, "new signing key %s (%s); running servers sign with it within 10 seconds\n", a.tokens.CurrentKeyID(), a.cfg.SigningAlg)
			return nil
		},
	}
	return group("signing-keys", "Rotate the keys that sign access tokens", rotate)
}

func (c *cli) configCommand() *cobra.Command {
	check := &cobra.Command{
		Use:   "check",
		Short: "Check the configuration and print the values in effect, secrets masked",
		Long: `Check the configuration and print the values in effect, secrets masked (passwords, client
secrets, the encryption key). Exits 0 when every value is valid; otherwise prints the one-line
error the server would stop with, and exits 1. It reads no database and creates nothing.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config()
			if err != nil {
				return err
			}
			printConfig(c.stdout, cfg, c.env.get)
			return nil
		},
	}
	return group("config", "Check the configuration", check)
}

func (c *cli) benchCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "bench [--url URL] [flags]",
		Short:              "Load-test a running server (login, refresh, me, credits)",
		DisableFlagParsing: true, // bench parses its own flags
		RunE: func(cmd *cobra.Command, args []string) error {
			usageOut := c.stderr
			for _, a := range args {
				if a == "-h" || a == "-help" || a == "--help" {
					usageOut = c.stdout
				}
			}
			err := bench(c.ctx, args, c.stdout, usageOut)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		},
	}
}

// cliError turns a domain error into the CLI's words: flags rather than API field names, one
// message, once.
func cliError(err error) error {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) {
		return err
	}
	if len(ge.Fields) > 0 {
		parts := make([]string, 0, len(ge.Fields))
		for _, f := range ge.Fields {
			parts = append(parts, fieldMessage(f))
		}
		return errors.New(strings.Join(parts, "; "))
	}
	switch ge.Kind {
	case gatehouse.KindNotFound:
		return errors.New("not found")
	case gatehouse.KindUnavailable:
		if ge.Err != nil {
			return fmt.Errorf("the database is unavailable: %v", ge.Err)
		}
	}
	return errors.New(sentence(ge.Message))
}

// flagOfField names the flag that sets an API field.
var flagOfField = map[string]string{"expires_in_days": "--expires-in-days", "scopes": "--scope"}

func fieldMessage(f gatehouse.FieldError) string {
	flag, ok := flagOfField[f.Field]
	if !ok {
		flag = "--" + strings.ReplaceAll(f.Field, "_", "-")
	}
	msg := sentence(f.Message)
	if f.Field == "scopes" {
		msg += " (scopes: " + strings.Join(gatehouse.AllScopes, ", ") + ")"
	}
	if strings.Contains(f.Field, "_") && strings.Contains(msg, f.Field) {
		return strings.ReplaceAll(msg, f.Field, flag) // "expires_in_days must be ..."
	}
	return flag + ": " + msg
}

// sentence makes an API message read as CLI output: no capital at the start (unless an
// acronym), no full stop at the end.
func sentence(msg string) string {
	msg = strings.TrimSuffix(strings.TrimSpace(msg), ".")
	if len(msg) > 1 && msg[0] >= 'A' && msg[0] <= 'Z' && !(msg[1] >= 'A' && msg[1] <= 'Z') {
		msg = string(msg[0]+'a'-'A') + msg[1:]
	}
	return msg
}

func status(active bool) string {
	if active {
		return "active"
	}
	return "disabled"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func day(t time.Time) string    { return t.UTC().Format("2006-01-02") }
func minute(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// exactlyOneArg accepts one positional argument, and otherwise fails with msg (which says what
// the argument is and where to find it).
func exactlyOneArg(msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return errors.New(msg)
		}
		return nil
	}
}

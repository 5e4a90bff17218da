package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// environment is where the configuration comes from.
type environment struct {
	get func(string) string
	// names lists the variables that are set, for the warning about unknown GATEHOUSE_*
	// variables; nil when the caller cannot list them.
	names []string
}

// run is the whole program; tests call it directly, with a getenv that cannot list variables.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, environment{get: getenv}, stdout, stderr)
}

// runWith is run with an environment that may also list its variables (main's does).
func runWith(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) error {
	c := &cli{ctx: ctx, env: env, stdout: stdout, stderr: stderr}
	root := c.rootCommand()
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		return oneLine(err)
	}
	return nil
}

func init() {
	cobra.EnableCommandSorting = false // commands are listed in the order they are added: most used first
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Gatehouse: a self-hosted authentication server, and the commands that operate it",
		Long: `Gatehouse: a self-hosted authentication server, and the commands that operate it.

Every command reads the same configuration: GATEHOUSE_* environment variables, listed in
docs/configuration.md ("gatehouse config check" prints the values in effect). Only serve, migrate
and init create the database; the other commands refuse to run without one.`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(c.stderr, cmd.UsageString())
			return errors.New("no command given (see gatehouse --help)")
		},
		// Unknown flags before the command name fall through to "no command given".
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
	}
	root.Flags().Bool("version", false, "print the version and exit")
	root.PersistentFlags().BoolVar(&c.verbose, "verbose", false, "say which database the command uses, and log at GATEHOUSE_LOG_LEVEL rather than warnings only")
	root.SetVersionTemplate("gatehouse {{.Version}}\n")
	root.SetUsageTemplate(usageTemplate)
	root.SetFlagErrorFunc(flagError)

	root.AddCommand(
		c.serveCommand(),
		c.migrateCommand(),
		c.initCommand(),
		c.usersCommand(),
		c.keysCommand(),
		c.sessionsCommand(),
		c.auditCommand(),
		c.creditsCommand(),
		c.clientsCommand(),
		c.resourcesCommand(),
		c.grantsCommand(),
		c.oauthCommand(),
		c.loginCommand(),
		c.signingKeysCommand(),
		c.breachCommand(),
		c.configCommand(),
		c.benchCommand(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			RunE: func(cmd *cobra.Command, _ []string) error {
				fmt.Fprintln(c.stdout, "gatehouse", version)
				return nil
			},
		},
	)
	// Commands that take no arguments say so, rather than ignore them.
	var noStrayArgs func(*cobra.Command)
	noStrayArgs = func(cmd *cobra.Command) {
		if cmd.Args == nil && !cmd.HasSubCommands() && !cmd.DisableFlagParsing {
			cmd.Args = noArgs
		}
		cmd.DisableFlagsInUseLine = true // each Use line shows its flags already
		for _, sub := range cmd.Commands() {
			noStrayArgs(sub)
		}
	}
	noStrayArgs(root)
	return root
}

// group is a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return fmt.Errorf("%s: want a subcommand: %s (see %s --help)", commandName(cmd), strings.Join(names, ", "), cmd.CommandPath())
		},
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
	}
	g.AddCommand(subs...)
	return g
}

func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := ""
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf("; did you mean %q?", s[0])
	}
	if !cmd.HasParent() {
		return fmt.Errorf("unknown command %q%s (see %s --help)", args[0], hint, cmd.CommandPath())
	}
	return fmt.Errorf("%s: unknown subcommand %q%s (see %s --help)", commandName(cmd), args[0], hint, cmd.CommandPath())
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s: unexpected argument %q (see %s --help)", commandName(cmd), args[0], cmd.CommandPath())
	}
	return nil
}

var (
	unknownFlag      = regexp.MustCompile(`^unknown flag: --(\S+)$`)
	unknownShorthand = regexp.MustCompile(`^unknown shorthand flag: '.' in -([^-=\s][^=\s]+)`)
)

// flagError names the command and, for a mistyped flag, the closest one it has.
func flagError(cmd *cobra.Command, err error) error {
	hint := ""
	if m := unknownFlag.FindStringSubmatch(err.Error()); m != nil {
		best, bestDistance := "", 3
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if d := levenshtein(m[1], f.Name); d < bestDistance && !f.Hidden {
				best, bestDistance = f.Name, d
			}
		})
		if best != "" {
			hint = fmt.Sprintf("; did you mean --%s?", best)
		}
	}
	// -email, as Go's flag package took it: long flags now take two dashes.
	if m := unknownShorthand.FindStringSubmatch(err.Error()); m != nil && cmd.Flags().Lookup(m[1]) != nil {
		hint = fmt.Sprintf("; long flags take two dashes: --%s", m[1])
	}
	return fmt.Errorf("%s: %v%s (see %s --help)", commandName(cmd), err, hint, cmd.CommandPath())
}

// commandName is the command's path without the program name: "keys create".
func commandName(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return cmd.Name()
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// oneLine makes sure a failure prints as one line, whatever the error underneath wrote.
func oneLine(err error) error {
	msg := err.Error()
	if !strings.ContainsAny(msg, "\r\n") {
		return err
	}
	lines := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return &oneLineError{msg: strings.Join(lines, "; "), err: err}
}

type oneLineError struct {
	msg string
	err error
}

func (e *oneLineError) Error() string { return e.msg }
func (e *oneLineError) Unwrap() error { return e.err }

// usageTemplate is cobra's, except that a command holding subcommands shows only "[command]".
const usageTemplate = `Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`

// levenshtein is the edit distance between a and b, for "did you mean" hints.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

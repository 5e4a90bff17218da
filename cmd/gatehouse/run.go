package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

const usage = `usage: gatehouse <command> [flags]

commands:
  serve                      run the server (creates and migrates the database if needed)
  migrate                    apply database migrations and exit
  init [--email E] [--password P] [--new-key]
                             first-run set-up: database, signing key, admin account, admin API key
  users create --email E --password P [--name N] [--role admin]
  users set-role --email E --role admin|user
  keys create --email E [--name N] [--scope S]... [--expires-in-days D]
  keys list --email E
  keys revoke ID
  credits grant --email E --amount N [--plan P]
  signing-keys rotate        add a new signing key; servers switch to it within 10 seconds
  bench --url URL            load-test a running server (login, refresh, me)
  bench startup              start the server a few times: time to a healthy /healthz, idle memory
  version

Configuration comes from GATEHOUSE_* environment variables (see README.md).`

// run is the whole program; main only wires the process to it, and tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "users":
		return usersCommand(ctx, rest, getenv, stdout, stderr)
	case "signing-keys":
		return signingKeysCommand(ctx, rest, getenv, stdout, stderr)
	case "init":
		return initCommand(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return keysCommand(ctx, rest, getenv, stdout, stderr)
	case "credits":
		return creditsCommand(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return bench(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "gatehouse", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (try: %s)", cmd, strings.Join([]string{"serve", "migrate", "init", "users", "keys", "credits", "signing-keys", "bench", "version"}, ", "))
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

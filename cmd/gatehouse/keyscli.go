package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("keys: want a subcommand: create, list, revoke")
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		email := fs.String("email", "", "owner's email")
		name := fs.String("name", "cli", "key name")
		var scopes stringList
		fs.Var(&scopes, "scope", "scope (repeatable); default: "+strings.Join(gatehouse.DefaultKeyScopes, ", "))
		days := fs.Int("expires-in-days", gatehouse.DefaultAPIKeyLifetimeDays, "lifetime in days; 0 = never (admins only)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *email == "" {
			return errors.New("keys create: --email is required")
		}
		a, u, err := cliAppForUser(ctx, getenv, stderr, *email)
		if err != nil {
			return err
		}
		defer a.Close()
		var sc []string
		if len(scopes) > 0 {
			sc = scopes
		}
		k, secret, err := a.auth.CreateAPIKey(ctx, &gatehouse.Principal{User: u}, gatehouse.NewAPIKeyInput{Name: *name, Scopes: sc, ExpiresInDays: days})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "created key %s (%s) for %s, scopes: %s, expires: %s\n", k.ID, k.Prefix, u.Email, strings.Join(k.Scopes, " "), expiry(k.ExpiresAt))
		fmt.Fprintln(stdout, "the key is shown once; store it now:")
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		email := fs.String("email", "", "owner's email")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *email == "" {
			return errors.New("keys list: --email is required")
		}
		a, u, err := cliAppForUser(ctx, getenv, stderr, *email)
		if err != nil {
			return err
		}
		defer a.Close()
		keys, err := a.auth.ListAPIKeysOf(ctx, u.ID)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "%-36s  %-11s  %-20s  %-10s  %s\n", "ID", "PREFIX", "NAME", "EXPIRES", "SCOPES")
		for _, k := range keys {
			fmt.Fprintf(stdout, "%-36s  %-11s  %-20s  %-10s  %s\n", k.ID, k.Prefix, k.Name, expiry(k.ExpiresAt), strings.Join(k.Scopes, " "))
		}
		return nil
	case "revoke":
		if len(args) != 2 {
			return errors.New("keys revoke: want the key id: gatehouse keys revoke ID")
		}
		a, err := cliApp(ctx, getenv, stderr)
		if err != nil {
			return err
		}
		defer a.Close()
		k, err := a.auth.RevokeAPIKeyByID(ctx, args[1])
		if errors.Is(err, gatehouse.ErrNotFound) {
			return errors.New("no such key")
		} else if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "revoked key %s (%s)\n", k.ID, k.Prefix)
		return nil
	}
	return fmt.Errorf("keys: unknown subcommand %q", args[0])
}

func expiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2006-01-02")
}

func creditsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "grant" {
		return errors.New("credits: want: credits grant --email E --amount N")
	}
	fs := flag.NewFlagSet("credits grant", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "account email")
	amount := fs.Int64("amount", 0, "credits to add")
	plan := fs.String("plan", "", "plan name (unchanged when empty)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("credits grant: --email is required")
	}
	a, u, err := cliAppForUser(ctx, getenv, stderr, *email)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := a.auth.GrantCredits(ctx, u.ID, gatehouse.GrantCreditsInput{Amount: *amount, Plan: *plan, Description: "granted from the command line"})
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "%s now has %d credits (%d used, plan %s)\n", u.Email, b.Total, b.Used, b.Plan)
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse"
)

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("migrate takes no arguments")
	}
	a, err := cliApp(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

func usersCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("users: want a subcommand: create, set-role")
	}
	fs := flag.NewFlagSet("users "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "account email")
	pw := fs.String("password", "", "account password")
	name := fs.String("name", "", "display name")
	role := fs.String("role", gatehouse.RoleUser, "user or admin")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("users %s: --email is required", args[0])
	}
	switch args[0] {
	case "create":
		if *pw == "" {
			return errors.New("users create: --password is required")
		}
		a, err := cliApp(ctx, getenv, stderr)
		if err != nil {
			return err
		}
		defer a.Close()
		u, err := a.auth.CreateUser(ctx, gatehouse.RegisterInput{Email: *email, Password: *pw, Name: *name}, *role, true)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "created user %s (%s, role %s)\n", u.ID, u.Email, u.Role)
		return nil
	case "set-role":
		if !gatehouse.ValidRole(*role) {
			return fmt.Errorf("users set-role: --role must be admin or user")
		}
		a, u, err := cliAppForUser(ctx, getenv, stderr, *email)
		if err != nil {
			return err
		}
		defer a.Close()
		if u, err = a.auth.UpdateUser(ctx, u.ID, gatehouse.AdminUserUpdate{Role: role}); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "%s is now %s\n", u.Email, u.Role)
		return nil
	}
	return fmt.Errorf("users: unknown subcommand %q", args[0])
}

func signingKeysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "rotate" {
		return errors.New("signing-keys: want: signing-keys rotate")
	}
	a, err := cliApp(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.addSigningKey(ctx); err != nil {
		return err
	}
	if err := a.tokens.Reload(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new signing key %s (%s); running servers sign with it within 10 seconds\n", a.tokens.CurrentKeyID(), a.cfg.SigningAlg)
	return nil
}

// cliError turns a domain error into the one line the CLI prints.
func cliError(err error) error {
	var ge *gatehouse.Error
	if errors.As(err, &ge) {
		msg := ge.Message
		for _, f := range ge.Fields {
			msg += " " + f.Field + ": " + f.Message
		}
		if ge.Kind == gatehouse.KindNotFound {
			msg = "no such user"
		}
		return errors.New(msg)
	}
	return err
}

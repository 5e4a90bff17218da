package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse"
)

// initCommand sets up a new deployment: database, signing key, an admin account and an admin API
// key. On a deployment that already has an admin it explains what exists and creates nothing,
// unless asked for a new admin key.
func initCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "admin@localhost.localdomain", "admin email")
	pw := fs.String("password", "", "admin password (generated and printed when empty)")
	newKey := fs.Bool("new-key", false, "on an initialised deployment, create another admin API key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := cliApp(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.Close()

	existing, err := a.auth.FirstAdmin(ctx)
	if err != nil {
		return err
	}
	if existing != nil {
		fmt.Fprintf(stdout, "already initialised: database %s, signing key %s, admin %s\n",
			describeDatabase(a.cfg), a.tokens.CurrentKeyID(), existing.Email)
		if !*newKey {
			fmt.Fprintln(stdout, "nothing created; run `gatehouse init --new-key` for another admin API key, or `gatehouse keys create`")
			return nil
		}
		return printAdminKey(ctx, a, existing, stdout)
	}

	password := *pw
	generated := password == ""
	if generated {
		// 24 random bytes: 192 bits, far past any guessing and any policy.
		password = gatehouse.RandomToken(24)
	}
	u, err := a.auth.CreateUser(ctx, gatehouse.RegisterInput{Email: *email, Password: password, Name: "Administrator"}, gatehouse.RoleAdmin, true)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "initialised: database %s, signing key %s (%s)\n", describeDatabase(a.cfg), a.tokens.CurrentKeyID(), a.cfg.SigningAlg)
	fmt.Fprintf(stdout, "admin account: %s\n", u.Email)
	if generated {
		fmt.Fprintf(stdout, "admin password (shown once): %s\n", password)
	}
	return printAdminKey(ctx, a, u, stdout)
}

func printAdminKey(ctx context.Context, a *app, admin *gatehouse.User, stdout io.Writer) error {
	never := 0
	k, secret, err := a.auth.CreateAPIKey(ctx, &gatehouse.Principal{User: admin}, gatehouse.NewAPIKeyInput{
		Name: "admin (gatehouse init)", Scopes: gatehouse.AllScopes, ExpiresInDays: &never})
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "admin API key %s (%s), all scopes, shown once:\n%s\n", k.ID, k.Prefix, secret)
	return nil
}

func describeDatabase(cfg *config) string {
	if databaseKind(cfg) == "postgres" {
		return redactURL(cfg.DatabaseURL)
	}
	return cfg.sqlitePath()
}

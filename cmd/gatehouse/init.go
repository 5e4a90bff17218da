package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

// initCommand sets up a new deployment: database, signing key, an admin account and an admin API
// key. On a deployment that already has an admin it explains what exists and creates nothing,
// unless asked for a new admin key.
func (c *cli) initCommand() *cobra.Command {
	var email, pw string
	var newKey bool
	cmd := &cobra.Command{
		Use:   "init [--email E] [--password P] [--new-key]",
		Short: "First-run set-up: database, signing key, an admin account and an admin API key",
		Long: `First-run set-up: creates the database and its signing key, an admin account (its password
generated and printed once when --password is not given) and an admin API key with every scope,
printed once, alone on the last line. On a deployment that already has an admin it says what
exists and creates nothing, unless --new-key asks for another admin API key.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.open(createDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx, stdout := c.ctx, c.stdout

			existing, err := a.auth.FirstAdmin(ctx)
			if err != nil {
				return fmt.Errorf("init: %w", cliError(err))
			}
			if existing != nil {
				fmt.Fprintf(stdout, "already initialised: database %s, signing key %s, admin %s\n",
					describeDatabase(a.cfg), a.tokens.CurrentKeyID(), existing.Email)
				if !newKey {
					fmt.Fprintln(stdout, "nothing created; run `gatehouse init --new-key` for another admin API key, or `gatehouse keys create`")
					return nil
				}
				return printAdminKey(ctx, a, existing, stdout)
			}

			password := pw
			generated := password == ""
			if generated {
				// 24 random bytes: 192 bits, far past any guessing and any policy.
				password = gatehouse.RandomToken(24)
			}
			u, err := a.auth.CreateUser(ctx, gatehouse.RegisterInput{Email: email, Password: password, Name: "Administrator"}, gatehouse.RoleAdmin, true)
			if err != nil {
				return fmt.Errorf("init: %w", cliError(err))
			}
			fmt.Fprintf(stdout, "initialised: database %s, signing key %s (%s)\n", describeDatabase(a.cfg), a.tokens.CurrentKeyID(), a.cfg.SigningAlg)
			fmt.Fprintf(stdout, "admin account: %s\n", u.Email)
			if generated {
				fmt.Fprintf(stdout, "admin password (shown once): %s\n", password)
			}
			return printAdminKey(ctx, a, u, stdout)
		},
	}
	cmd.Flags().StringVar(&email, "email", "admin@localhost.localdomain", "the admin's email address")
	_ = cmd.RegisterFlagCompletionFunc("email", completeNothing)
	cmd.Flags().StringVar(&pw, "password", "", "the admin's password (generated and printed when not given)")
	cmd.Flags().BoolVar(&newKey, "new-key", false, "on an initialised deployment, create another admin API key")
	return cmd
}

func printAdminKey(ctx context.Context, a *app, admin *gatehouse.User, stdout io.Writer) error {
	never := 0
	k, secret, err := a.auth.CreateAPIKey(ctx, &gatehouse.Principal{User: admin, Client: gatehouse.Operator.Client}, gatehouse.NewAPIKeyInput{
		Name: "admin (gatehouse init)", Scopes: gatehouse.AllScopes, ExpiresInDays: &never})
	if err != nil {
		return fmt.Errorf("init: %w", cliError(err))
	}
	fmt.Fprintf(stdout, "admin API key %s (%s), all scopes, shown once:\n%s\n", k.ID, k.Prefix, secret)
	return nil
}

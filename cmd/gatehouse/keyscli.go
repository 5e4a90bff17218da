package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

func (c *cli) keysCommand() *cobra.Command {
	var email, name string
	var scopes []string
	var days int
	create := &cobra.Command{
		Use:   "create --email E [--name N] [--scope S]... [--expires-in-days D]",
		Short: "Create an API key for an account; the key is printed once, alone on the last line",
		Long: `Create an API key for an account. The key is printed once, alone on the last line of the
output; only its hash is stored. A key never has more rights than its owner: the admin scope is
for admins' keys only, and so are keys that never expire (--expires-in-days 0).

Scopes: ` + strings.Join(gatehouse.AllScopes, ", ") + `.`,
		Example: `  gatehouse keys create --email dev@example.com --name ci --scope profile:read,credits:read
  gatehouse keys create --email app@example.com --scope tokens:introspect --expires-in-days 365`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "email"); err != nil {
				return err
			}
			var clean []string
			for _, s := range scopes {
				if s = strings.TrimSpace(s); s != "" {
					if !gatehouse.ValidScope(s) {
						return fmt.Errorf("keys create: --scope %s: unknown scope (scopes: %s)", s, strings.Join(gatehouse.AllScopes, ", "))
					}
					clean = append(clean, s)
				}
			}
			a, u, err := c.openForUser(cmd, email)
			if err != nil {
				return err
			}
			defer a.Close()
			if slices.Contains(clean, gatehouse.ScopeAdmin) && !u.IsAdmin() {
				return fmt.Errorf("keys create: --scope admin: %s is not an admin, and a key never has more rights than its owner (gatehouse users set-role --email %s --role admin makes them one)", u.Email, u.Email)
			}
			if days == 0 && !u.IsAdmin() {
				return fmt.Errorf("keys create: --expires-in-days 0: %s is not an admin, and only admins' keys may never expire; give a number of days from 1 to %d", u.Email, gatehouse.MaxAPIKeyLifetimeDays)
			}
			in := gatehouse.NewAPIKeyInput{Name: name, Scopes: clean, ExpiresInDays: &days}
			k, secret, err := a.auth.CreateAPIKey(c.ctx, &gatehouse.Principal{User: u, Client: gatehouse.Operator.Client}, in)
			if err != nil {
				return fmt.Errorf("keys create: %w", cliError(err))
			}
			fmt.Fprintf(c.stdout, "created key %s (%s) for %s, scopes: %s, expires: %s\n", k.ID, k.Prefix, u.Email, strings.Join(k.Scopes, " "), expiry(k.ExpiresAt))
			fmt.Fprintln(c.stdout, "the key is shown once; store it now:")
			fmt.Fprintln(c.stdout, secret)
			return nil
		},
	}
	emailFlag(create, &email, "the owner's email address (required)")
	create.Flags().StringVar(&name, "name", "cli", "a name to recognise the key by")
	create.Flags().StringSliceVar(&scopes, "scope", nil, "a scope; repeat the flag or separate scopes with commas (default "+strings.Join(gatehouse.DefaultKeyScopes, ",")+")")
	create.Flags().IntVar(&days, "expires-in-days", gatehouse.DefaultAPIKeyLifetimeDays, fmt.Sprintf("lifetime in days, from 1 to %d; 0 = never (admins' keys only)", gatehouse.MaxAPIKeyLifetimeDays))
	_ = create.RegisterFlagCompletionFunc("scope", completeWords(gatehouse.AllScopes...))

	var listEmail string
	list := &cobra.Command{
		Use:   "list --email E",
		Short: "List an account's live keys (ID and the prefix that identifies each)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, u, err := c.openForUser(cmd, listEmail)
			if err != nil {
				return err
			}
			defer a.Close()
			keys, err := a.auth.ListAPIKeysOf(c.ctx, u.ID)
			if err != nil {
				return fmt.Errorf("keys list: %w", cliError(err))
			}
			w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tPREFIX\tNAME\tEXPIRES\tLAST USED\tSCOPES")
			for _, k := range keys {
				lastUsed := "never"
				if k.LastUsedAt != nil {
					lastUsed = day(*k.LastUsedAt)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, expiry(k.ExpiresAt), lastUsed, strings.Join(k.Scopes, " "))
			}
			return w.Flush()
		},
	}
	emailFlag(list, &listEmail, "the owner's email address (required)")

	revoke := &cobra.Command{
		Use:   "revoke ID|PREFIX",
		Short: "Revoke a key, by its ID or by the prefix keys list shows; it stops working at once",
		Long: `Revoke a key, by its ID or by the prefix "gatehouse keys list" shows (ak_ and 8 characters);
the whole key works too. The key stops working at once. Revoking a key that is already revoked
is an error that says so.`,
		Example:           `  gatehouse keys revoke ak_3xAmPl3Q`,
		Args:              exactlyOneArg("keys revoke: want one key ID or prefix, from gatehouse keys list --email E (see gatehouse keys revoke --help)"),
		ValidArgsFunction: completeNothing,
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := strings.TrimSpace(args[0])
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			k, err := a.findKey(c, ref)
			if err != nil {
				return fmt.Errorf("keys revoke: %w", err)
			}
			if k.RevokedAt != nil {
				return fmt.Errorf("keys revoke: key %s (%s) was already revoked on %s", k.ID, k.Prefix, day(*k.RevokedAt))
			}
			revoked, err := a.auth.RevokeAPIKeyByID(c.ctx, k.ID)
			if err != nil {
				return fmt.Errorf("keys revoke: %w", cliError(err))
			}
			if revoked.RevokedAt != nil { // revoked by someone else in between
				return fmt.Errorf("keys revoke: key %s (%s) was already revoked on %s", k.ID, k.Prefix, day(*revoked.RevokedAt))
			}
			fmt.Fprintf(c.stdout, "revoked key %s (%s)\n", k.ID, k.Prefix)
			return nil
		},
	}
	return group("keys", "Create, list and revoke API keys", create, list, revoke)
}

// findKey finds a key by ID, displayed prefix, or the whole key.
func (a *app) findKey(c *cli, ref string) (*gatehouse.APIKey, error) {
	notFound := fmt.Errorf("no key %q in database %s (give an ID or a prefix from gatehouse keys list --email E)", ref, describeDatabase(a.cfg))
	switch {
	case gatehouse.WellFormedAPIKey(ref):
		k, err := a.auth.APIKeyBySecret(c.ctx, ref)
		if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
			return nil, fmt.Errorf("no such key in database %s", describeDatabase(a.cfg))
		}
		return k, cliErrorOrNil(err)
	case gatehouse.IsAPIKeyPrefix(ref):
		keys, err := a.auth.APIKeysByPrefix(c.ctx, ref)
		if err != nil {
			return nil, cliError(err)
		}
		var live []*gatehouse.APIKey
		for _, k := range keys {
			if k.RevokedAt == nil {
				live = append(live, k)
			}
		}
		switch {
		case len(keys) == 0:
			return nil, notFound
		case len(live) == 1:
			return live[0], nil
		case len(live) == 0:
			return keys[0], nil // the newest; reported as already revoked
		}
		var ids []string
		for _, k := range live {
			ids = append(ids, k.ID)
		}
		return nil, fmt.Errorf("%d live keys have the prefix %s; revoke one by ID: %s", len(live), ref, strings.Join(ids, ", "))
	}
	k, err := a.store.APIKeyByID(c.ctx, ref)
	if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
		return nil, notFound
	}
	return k, cliErrorOrNil(err)
}

func cliErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return cliError(err)
}

func expiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return day(*t)
}

func (c *cli) creditsCommand() *cobra.Command {
	var email, plan string
	var amount int64
	grant := &cobra.Command{
		Use:   "grant --email E --amount N [--plan P]",
		Short: "Add credits to an account's balance",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "email"); err != nil {
				return err
			}
			if !cmd.Flags().Changed("amount") {
				return fmt.Errorf("credits grant: --amount is required (see %s --help)", cmd.CommandPath())
			}
			a, u, err := c.openForUser(cmd, email)
			if err != nil {
				return err
			}
			defer a.Close()
			b, err := a.auth.GrantCredits(c.ctx, gatehouse.Operator, u.ID, gatehouse.GrantCreditsInput{Amount: amount, Plan: plan, Description: "granted from the command line"})
			if err != nil {
				return fmt.Errorf("credits grant: %w", cliError(err))
			}
			fmt.Fprintf(c.stdout, "%s now has %d credits (%d used, plan %s)\n", u.Email, b.Total, b.Used, b.Plan)
			return nil
		},
	}
	emailFlag(grant, &email, "the account's email address (required)")
	grant.Flags().Int64Var(&amount, "amount", 0, "credits to add (required)")
	grant.Flags().StringVar(&plan, "plan", "", "plan name (unchanged when empty)")
	return group("credits", "Grant credits", grant)
}

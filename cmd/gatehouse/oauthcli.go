package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

// The authorization server's commands: pre-registered clients, resources, and the grants users
// made. They act as gatehouse.Operator, through the same rules as the admin API.

// grantTypeFlags are the grant types clients create accepts.
var grantTypeFlags = []string{gatehouse.GrantAuthCode, gatehouse.GrantRefresh, gatehouse.GrantClientCredentials, deviceCodeAlias, gatehouse.GrantDeviceCode, gatehouse.GrantTokenExchange}

// deviceCodeAlias is --grant's short name of the device grant (RFC 8628).
const deviceCodeAlias = "device_code"

// maxRefreshReuse is the longest per-client refresh retry window the domain accepts.
const maxRefreshReuse = time.Minute

func (c *cli) clientsCommand() *cobra.Command {
	var name, clientURI, refreshReuse, jwksURI, jwkFile string
	var redirects, grants, clientScopes []string
	var confidential bool
	create := &cobra.Command{
		Use:   "create --name NAME (--redirect-uri URI... | --grant client_credentials --scope S... | --grant device_code) [--confidential] [--grant TYPE]... [--jwks-uri URL | --jwk FILE] [--client-uri URL] [--refresh-reuse DURATION]",
		Short: "Register an OAuth client; a confidential client's secret is printed once, alone on the last line",
		Long: `Register an OAuth client (an app that signs users in through Gatehouse, or gets tokens for
a registered resource). It prints the client_id; a confidential client's secret is printed once,
alone on the last line of the output, and only its hash is stored.

A public client (the default: native apps, CLIs, single-page apps, MCP clients) has no secret
and proves itself with PKCE; a confidential client (--confidential: a web app with a server)
authenticates at the token endpoint with client_secret_basic or client_secret_post.

Redirect URIs: https; http only on a loopback address (127.0.0.1, [::1], localhost, any port for
the IP literals); or a native app's private-use scheme (com.example.app:/callback).
Grant types: authorization_code (with redirect URIs), refresh_token (public clients get refresh
tokens either way), client_credentials, device_code (short for
urn:ietf:params:oauth:grant-type:device_code: device authorization, RFC 8628, for CLIs and
devices without a browser; a client with only this grant has no redirect URI), and
urn:ietf:params:oauth:grant-type:token-exchange (confidential clients only: the client exchanges
API keys and users' tokens for short-lived tokens, and acts for users who allowed it).

A client_credentials client is a service or agent that gets tokens of its own, with no user
(sub = its client_id): it is confidential, needs no redirect URI (without one it has no other
grant), and gets the scopes given with --scope (repeat it) among those of the resource it asks
for. It authenticates with its secret, or, with --jwks-uri URL (an https URL serving its JWK
Set) or --jwk FILE (a public JWK or JWK Set), with a signed client assertion (private_key_jwt,
RFC 7523) instead; such a client has no secret.`,
		Example: `  gatehouse clients create --name "Team wiki" --redirect-uri https://wiki.example.com/oauth/callback --confidential --grant refresh_token
  gatehouse clients create --name "my CLI" --redirect-uri http://127.0.0.1/callback
  gatehouse clients create --name "Build agent" --grant device_code
  gatehouse clients create --name "nightly report" --grant client_credentials --scope mcp:tools
  gatehouse clients create --name "build agent" --grant client_credentials --scope mcp:tools --jwk agent-public.jwk`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "name"); err != nil {
				return err
			}
			in := gatehouse.NewClientInput{Name: strings.TrimSpace(name), AuthMethod: gatehouse.AuthMethodNone, ClientURI: strings.TrimSpace(clientURI),
				JWKSURI: strings.TrimSpace(jwksURI)}
			for _, r := range redirects {
				in.RedirectURIs = append(in.RedirectURIs, strings.TrimSpace(r))
			}
			machine, device := false, false
			for _, g := range grants {
				switch g = strings.TrimSpace(g); g {
				case "":
				case gatehouse.GrantAuthCode, gatehouse.GrantRefresh, gatehouse.GrantTokenExchange:
					in.GrantTypes = append(in.GrantTypes, g)
				case gatehouse.GrantDeviceCode, deviceCodeAlias:
					in.GrantTypes, device = append(in.GrantTypes, gatehouse.GrantDeviceCode), true
				case gatehouse.GrantClientCredentials:
					in.GrantTypes, machine = append(in.GrantTypes, g), true
				default:
					return fmt.Errorf("clients create: --grant %s: unknown grant type (grant types: %s)", g, strings.Join(grantTypeFlags, ", "))
				}
			}
			// Redirect URIs mean a client that signs users in (authorization_code); without them,
			// only a client_credentials client or a device client makes sense.
			if len(redirects) > 0 {
				in.GrantTypes = append([]string{gatehouse.GrantAuthCode}, in.GrantTypes...)
			} else if !machine && !device {
				return fmt.Errorf("clients create: --redirect-uri is required (repeat it for each redirect URI), unless the client is a service with --grant client_credentials or a device client with --grant device_code; see %s --help", cmd.CommandPath())
			} else if slices.Contains(in.GrantTypes, gatehouse.GrantAuthCode) || !device && slices.Contains(in.GrantTypes, gatehouse.GrantRefresh) {
				return fmt.Errorf("clients create: --grant authorization_code and refresh_token sign users in and need --redirect-uri")
			}
			for _, s := range clientScopes {
				in.Scopes = append(in.Scopes, strings.Fields(s)...)
			}
			if len(in.Scopes) > 0 && !machine {
				return fmt.Errorf("clients create: --scope is for client_credentials clients (add --grant client_credentials)")
			}
			if machine && len(in.Scopes) == 0 {
				return fmt.Errorf("clients create: a client_credentials client needs --scope (a scope of the resource it will call; repeat for more)")
			}
			if jwkFile != "" && in.JWKSURI != "" {
				return fmt.Errorf("clients create: give --jwk or --jwks-uri, not both")
			}
			if in.JWKSURI != "" && !strings.HasPrefix(in.JWKSURI, "https://") {
				return fmt.Errorf("clients create: --jwks-uri must be an https URL, not %q", in.JWKSURI)
			}
			if jwkFile != "" {
				b, err := os.ReadFile(jwkFile)
				if err != nil {
					return fmt.Errorf("clients create: --jwk: %w", err)
				}
				in.JWKS = b
			}
			if confidential || machine || in.JWKS != nil || in.JWKSURI != "" {
				in.AuthMethod = gatehouse.AuthMethodBasic
			}
			if in.ClientURI != "" && !strings.HasPrefix(in.ClientURI, "https://") {
				return fmt.Errorf("clients create: --client-uri must be an https URL, not %q", in.ClientURI)
			}
			if cmd.Flags().Changed("refresh-reuse") {
				d, err := time.ParseDuration(strings.TrimSpace(refreshReuse))
				if err != nil || d < 0 || d > maxRefreshReuse {
					return fmt.Errorf("clients create: --refresh-reuse must be a duration from 0s to %s, such as 10s, not %q", maxRefreshReuse, refreshReuse)
				}
				in.RefreshReuse = &d
			}
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			cl, secret, err := a.authz.CreateClient(c.ctx, gatehouse.Operator, in)
			if err != nil {
				return fmt.Errorf("clients create: %w", clientError(err))
			}
			kind, auth := "public", "PKCE, no secret"
			switch {
			case cl.AuthMethod == gatehouse.AuthMethodJWT:
				kind, auth = "confidential", "private_key_jwt"
			case !cl.Public():
				kind, auth = "confidential", "client_secret_basic or client_secret_post"
			}
			fmt.Fprintf(c.stdout, "created %s client %q (grants: %s; %s)\n", kind, cl.Name, strings.Join(cl.GrantTypes, " "), auth)
			if len(cl.RedirectURIs) > 0 {
				fmt.Fprintf(c.stdout, "redirect URIs: %s\n", strings.Join(cl.RedirectURIs, " "))
			}
			if len(cl.Scopes) > 0 {
				fmt.Fprintf(c.stdout, "client_credentials scopes: %s\n", strings.Join(cl.Scopes, " "))
			}
			fmt.Fprintf(c.stdout, "client_id: %s\n", cl.ID)
			if secret != "" {
				fmt.Fprintln(c.stdout, "the client secret is shown once; store it now:")
				fmt.Fprintln(c.stdout, secret)
			}
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "the name users see on the consent page (required)")
	create.Flags().StringArrayVar(&redirects, "redirect-uri", nil, "a redirect URI (required unless --grant device_code; repeat the flag for more)")
	create.Flags().BoolVar(&confidential, "confidential", false, "a client with a secret (a web app's server), rather than a public one")
	create.Flags().StringSliceVar(&grants, "grant", nil, "a grant type besides authorization_code: refresh_token, client_credentials, device_code, urn:ietf:params:oauth:grant-type:token-exchange (repeat or separate with commas)")
	create.Flags().StringArrayVar(&clientScopes, "scope", nil, "a scope a client_credentials client is granted (repeat the flag for more)")
	create.Flags().StringVar(&jwksURI, "jwks-uri", "", "an https URL serving the client's public JWK Set: it authenticates with private_key_jwt, without a secret")
	create.Flags().StringVar(&jwkFile, "jwk", "", "a file holding the client's public JWK or JWK Set: it authenticates with private_key_jwt, without a secret")
	create.Flags().StringVar(&clientURI, "client-uri", "", "the app's home page (https), shown on the consent page")
	create.Flags().StringVar(&refreshReuse, "refresh-reuse", "", "this client's refresh retry window, from 0s to 60s (default: the server's GATEHOUSE_REFRESH_REUSE_INTERVAL)")
	_ = create.RegisterFlagCompletionFunc("grant", completeWords(grantTypeFlags...))
	for _, f := range []string{"name", "redirect-uri", "client-uri", "refresh-reuse", "scope", "jwks-uri"} {
		_ = create.RegisterFlagCompletionFunc(f, completeNothing)
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List the registered clients (pre-registered and dynamically registered), newest first",
		Long: `List the clients stored on this server, newest first: those an operator or admin registered
and those that registered themselves (RFC 7591). Clients identified by a metadata document URL
are not stored, and not listed.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			clients, err := a.authz.ListClients(c.ctx)
			if err != nil {
				return fmt.Errorf("clients list: %w", cliError(err))
			}
			w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "CLIENT ID\tNAME\tKIND\tTYPE\tSTATUS\tCREATED\tREDIRECT URIS")
			for _, cl := range clients {
				typ := "public"
				if !cl.Public() {
					typ = "confidential"
				}
				st := "active"
				if cl.RevokedAt != nil {
					st = "revoked " + day(*cl.RevokedAt)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cl.ID, truncate(cl.Name, 40), cl.Kind, typ, st, day(cl.CreatedAt), strings.Join(cl.RedirectURIs, " "))
			}
			return w.Flush()
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a client: its grants are deleted and its tokens stop working at once",
		Long: `Revoke a client (ID from "gatehouse clients list"). Users' grants to it are deleted, its
refresh tokens stop working at once and so do its access tokens on Gatehouse's own API; its
client_id gets 401 invalid_client from then on.`,
		Args:              exactlyOneArg("clients revoke: want one client ID, from gatehouse clients list (see gatehouse clients revoke --help)"),
		ValidArgsFunction: completeNothing,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			cl, err := a.store.OAuthClientByID(c.ctx, id)
			if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound && id == gatehouse.CLIClientID {
				// Stored on its first use: revoking it before that turns command-line sign-in off.
				cl, err = &gatehouse.OAuthClient{ID: id, Name: gatehouse.CLIClientName}, nil
			}
			if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
				return fmt.Errorf("clients revoke: no client %q in database %s (see gatehouse clients list)", id, describeDatabase(a.cfg))
			} else if err != nil {
				return fmt.Errorf("clients revoke: %w", cliError(err))
			}
			if cl.RevokedAt != nil {
				return fmt.Errorf("clients revoke: client %s (%s) was already revoked on %s", cl.ID, cl.Name, day(*cl.RevokedAt))
			}
			grants, err := a.authz.ListGrantsOf(c.ctx, gatehouse.GrantFilter{ClientID: cl.ID})
			if err != nil {
				return fmt.Errorf("clients revoke: %w", cliError(err))
			}
			err = a.authz.RevokeClient(c.ctx, gatehouse.Operator, cl.ID)
			if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound { // revoked by someone else in between
				return fmt.Errorf("clients revoke: client %s (%s) was already revoked", cl.ID, cl.Name)
			} else if err != nil {
				return fmt.Errorf("clients revoke: %w", cliError(err))
			}
			fmt.Fprintf(c.stdout, "revoked client %s (%s): %s deleted, its sessions and refresh tokens revoked\n", cl.ID, cl.Name, gatehouse.CountNoun(len(grants), "grant"))
			return nil
		},
	}
	return group("clients", "Register, list and revoke OAuth clients", create, list, revoke)
}

// clientError words a registration error for the command line: the flag, not the metadata field.
func clientError(err error) error {
	switch gatehouse.ErrorCodeOf(err) {
	case gatehouse.OAuthInvalidRedirectURI:
		return fmt.Errorf("--redirect-uri: %w", cliError(err))
	case gatehouse.OAuthInvalidClientMetadata:
		msg := cliError(err).Error()
		for field, flag := range map[string]string{"client_uri and logo_uri": "--client-uri", "grant_types": "--grant", "the refresh retry window": "--refresh-reuse",
			"jwks_uri": "--jwks-uri", "jwks:": "--jwk:", "scopes are": "--scope is"} {
			msg = strings.Replace(msg, field, flag, 1)
		}
		return fmt.Errorf("%s", msg)
	}
	return cliError(err)
}

func (c *cli) resourcesCommand() *cobra.Command {
	var uri, name string
	var scopes []string
	add := &cobra.Command{
		Use:   "add --uri URI --name NAME [--scope S]...",
		Short: "Register a resource (an API or MCP server) that Gatehouse issues tokens for",
		Long: `Register a protected resource (RFC 8707): an API or an MCP server. Its URI is exactly the
"aud" of the tokens issued for it, and what clients send as the resource parameter; it is an
https URL (http for development). A scope is NAME or NAME=DESCRIPTION; the consent page shows the
description beside the name. OpenID Connect's scopes (openid, profile, email, offline_access)
are accepted with every resource and need not be listed.`,
		Example: `  gatehouse resources add --uri https://mcp.example.com/mcp --name "Example MCP" --scope "mcp:tools=Use the tools" --scope mcp:resources`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "uri", "name"); err != nil {
				return err
			}
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			r, err := a.authz.AddResource(c.ctx, gatehouse.Operator, gatehouse.NewResourceInput{URI: strings.TrimSpace(uri), Name: name, Scopes: scopes})
			if gatehouse.ErrorCodeOf(err) == gatehouse.ErrResourceExists.Code {
				return fmt.Errorf("resources add: %s is already registered (see gatehouse resources list; gatehouse resources remove %s first to replace it)", strings.TrimSpace(uri), strings.TrimSpace(uri))
			} else if err != nil {
				return fmt.Errorf("resources add: %w", resourceError(err))
			}
			fmt.Fprintf(c.stdout, "registered resource %s (%s), scopes: %s\n", r.URI, r.Name, scopeList(r.Scopes))
			return nil
		},
	}
	add.Flags().StringVar(&uri, "uri", "", "the resource URI: the tokens' audience (required)")
	add.Flags().StringVar(&name, "name", "", "the name users see on the consent page (required)")
	add.Flags().StringArrayVar(&scopes, "scope", nil, "a scope, NAME or NAME=DESCRIPTION (repeat the flag for more)")
	for _, f := range []string{"uri", "name", "scope"} {
		_ = add.RegisterFlagCompletionFunc(f, completeNothing)
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List the registered resources and their scopes",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			rs, err := a.authz.ListResources(c.ctx)
			if err != nil {
				return fmt.Errorf("resources list: %w", cliError(err))
			}
			w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "URI\tNAME\tCREATED\tSCOPES")
			for _, r := range rs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.URI, truncate(r.Name, 40), day(r.CreatedAt), scopeList(r.Scopes))
			}
			return w.Flush()
		},
	}

	remove := &cobra.Command{
		Use:               "remove URI",
		Short:             "Remove a resource; every grant for it is deleted and its tokens' sessions revoked",
		Args:              exactlyOneArg("resources remove: want one resource URI, from gatehouse resources list (see gatehouse resources remove --help)"),
		ValidArgsFunction: completeNothing,
		RunE: func(cmd *cobra.Command, args []string) error {
			uri := strings.TrimSpace(args[0])
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			err = a.authz.RemoveResource(c.ctx, gatehouse.Operator, uri)
			if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
				return fmt.Errorf("resources remove: no resource %s in database %s (see gatehouse resources list)", uri, describeDatabase(a.cfg))
			} else if err != nil {
				return fmt.Errorf("resources remove: %w", cliError(err))
			}
			fmt.Fprintf(c.stdout, "removed resource %s; its grants are deleted and their sessions revoked\n", uri)
			return nil
		},
	}
	return group("resources", "Register, list and remove the resources (APIs, MCP servers) tokens are issued for", add, list, remove)
}

// resourceError words a resource's validation errors with its flags.
func resourceError(err error) error {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || len(ge.Fields) == 0 {
		return cliError(err)
	}
	parts := make([]string, 0, len(ge.Fields))
	for _, f := range ge.Fields {
		flag := "--" + f.Field
		if f.Field == "scopes" {
			flag = "--scope"
		}
		parts = append(parts, flag+": "+sentence(f.Message))
	}
	return errors.New(strings.Join(parts, "; "))
}

func scopeList(scopes []gatehouse.ScopeInfo) string {
	if len(scopes) == 0 {
		return "-"
	}
	return strings.Join(gatehouse.ScopeNames(scopes), " ")
}

func (c *cli) grantsCommand() *cobra.Command {
	var user, client string
	list := &cobra.Command{
		Use:   "list --user ID|EMAIL | --client ID",
		Short: "List the grants (apps connected to accounts) of a user or of a client",
		Example: `  gatehouse grants list --user alice@example.com
  gatehouse grants list --client 01JB6Q4N6R0B4C6QKZ1W9ZK3D4`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			user, client = strings.TrimSpace(user), strings.TrimSpace(client)
			if user == "" && client == "" {
				return fmt.Errorf("grants list: --user or --client is required (see %s --help)", cmd.CommandPath())
			}
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			f := gatehouse.GrantFilter{ClientID: client}
			if user != "" {
				u, err := a.userByRef(c, user)
				if err != nil {
					return fmt.Errorf("grants list: %w", err)
				}
				f.UserID = u.ID
			}
			gs, err := a.authz.ListGrantsOf(c.ctx, f)
			if err != nil {
				return fmt.Errorf("grants list: %w", cliError(err))
			}
			emails := map[string]string{}
			emailOf := func(id string) string {
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
			fmt.Fprintln(w, "ID\tUSER\tCLIENT\tCLIENT ID\tRESOURCE\tSCOPES\tUPDATED")
			for _, g := range gs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, emailOf(g.UserID), dash(truncate(g.ClientName, 30)), g.ClientID, g.Resource, dash(strings.Join(g.Scopes, " ")), minute(g.UpdatedAt))
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&user, "user", "", "the account's ID or email address")
	list.Flags().StringVar(&client, "client", "", "the client's client_id")
	_ = list.RegisterFlagCompletionFunc("user", completeNothing)
	_ = list.RegisterFlagCompletionFunc("client", completeNothing)

	revoke := &cobra.Command{
		Use:               "revoke ID",
		Short:             "Revoke a grant: the app's refresh tokens stop working at once; it must ask for consent again",
		Args:              exactlyOneArg("grants revoke: want one grant ID, from gatehouse grants list (see gatehouse grants revoke --help)"),
		ValidArgsFunction: completeNothing,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			a, err := c.open(existingDatabase)
			if err != nil {
				return err
			}
			defer a.Close()
			err = a.authz.RevokeGrantOf(c.ctx, gatehouse.Operator, id)
			if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
				return fmt.Errorf("grants revoke: no grant %q in database %s (see gatehouse grants list --user ID)", id, describeDatabase(a.cfg))
			} else if err != nil {
				return fmt.Errorf("grants revoke: %w", cliError(err))
			}
			fmt.Fprintf(c.stdout, "revoked grant %s; the app's sessions and refresh tokens are revoked\n", id)
			return nil
		},
	}
	return group("grants", "List and revoke the grants users gave to apps", list, revoke)
}

// userByRef finds an account by email address (anything with an @) or by ID.
func (a *app) userByRef(c *cli, ref string) (*gatehouse.User, error) {
	if strings.Contains(ref, "@") {
		return a.userByEmail(c.ctx, ref)
	}
	u, err := a.auth.User(c.ctx, ref)
	if gatehouse.ErrorKindOf(err) == gatehouse.KindNotFound {
		return nil, fmt.Errorf("no user %s in database %s", ref, describeDatabase(a.cfg))
	}
	if err != nil {
		return nil, cliError(err)
	}
	return u, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

// "gatehouse login": the command-line client of device authorization (RFC 8628). It needs no
// database and no configuration of its own: it talks to a Gatehouse server over HTTP, as the
// built-in public client gatehouse-cli (gatehouse.CLIClientID), which the server stores on its
// first use. It prints the code and the link, polls the token endpoint at the interval the
// server asks for (slow_down raises it by 5 s), and stores the tokens in the user's config
// directory; with --api-key it also prints the API key the user approved on the page.

// loginWait waits between polls. Tests put their own in the context (withLoginWait): they
// never sleep.
type loginWait func(ctx context.Context, d time.Duration) error

type loginWaitKey struct{}

// withLoginWait makes "gatehouse login" wait with w rather than a timer.
func withLoginWait(ctx context.Context, w loginWait) context.Context {
	return context.WithValue(ctx, loginWaitKey{}, w)
}

// timerWait waits d, or until the context ends.
func timerWait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func loginWaitOf(ctx context.Context) loginWait {
	if w, ok := ctx.Value(loginWaitKey{}).(loginWait); ok && w != nil {
		return w
	}
	return timerWait
}

// Polling bounds: RFC 8628 §3.5 says 5 s when the server names no interval.
const (
	defaultPollInterval = 5 * time.Second
	maxPollInterval     = time.Minute
	slowDownStep        = 5 * time.Second
	maxLoginResponse    = 1 << 20
)

func (c *cli) loginCommand() *cobra.Command {
	var serverURL, resource, clientID, keyName string
	var scopes, keyScopes []string
	var apiKey bool
	var keyDays int
	cmd := &cobra.Command{
		Use:   "login --url URL [--resource URI] [--scope S]... [--api-key [--api-key-name N] [--api-key-scope S]... [--api-key-expires-in-days D]]",
		Short: "Sign in to a Gatehouse server from this terminal (device authorization) and store the tokens",
		Long: `Sign in to a Gatehouse server from a terminal without a browser of its own (RFC 8628 device
authorization). The command prints a link and a code; open the link on any device, sign in,
check the code and approve. Meanwhile the command polls the server (every 5 seconds, or as the
server asks) and, once you approve, stores the tokens in your config directory:

  Linux    $XDG_CONFIG_HOME/gatehouse/credentials.json (~/.config/gatehouse/credentials.json)
  macOS    ~/Library/Application Support/gatehouse/credentials.json
  Windows  %AppData%\gatehouse\credentials.json

The file is readable by you only (mode 0600, its directory 0700) and holds one entry per server
URL: access token, refresh token (and ID token with the openid scope), scope and expiry. Tokens
are never printed.

The command is the built-in public client "gatehouse-cli": nothing needs registering. An
operator turns command-line sign-in off with "gatehouse clients revoke gatehouse-cli".
--client-id uses another client registered with the device grant instead.

--resource names the resource (an API or MCP server registered on the server) the tokens are
for; without it, the server's default (its only registered resource, or Gatehouse's own API).
--scope asks for scopes of that resource or OpenID Connect's (openid, profile, email); without
it, every scope of the resource.

--api-key also asks for an API key (for a server, a CI job, an SDK): the approval page shows its
name, scopes and lifetime, and the key is minted when you approve, printed once, alone on the
last line of the output, and never stored by this command. Its scopes are those of "gatehouse
keys create" except admin (default: profile:read credits:read); its lifetime 1 to 3650 days
(default 90).`,
		Example: `  gatehouse login --url https://auth.example.com
  gatehouse login --url https://auth.example.com --resource https://mcp.example.com/mcp --scope mcp:tools
  gatehouse login --url https://auth.example.com --api-key --api-key-name "CI deploys" --api-key-scope credits:read --api-key-expires-in-days 30`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "url"); err != nil {
				return err
			}
			base, err := loginServerURL(serverURL)
			if err != nil {
				return err
			}
			lc := &loginClient{base: base, clientID: strings.TrimSpace(clientID), out: c.stdout,
				http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			form := url.Values{"client_id": {lc.clientID}}
			if len(scopes) > 0 {
				var all []string
				for _, s := range scopes {
					all = append(all, strings.Fields(s)...)
				}
				form.Set("scope", strings.Join(all, " "))
			}
			if resource = strings.TrimSpace(resource); resource != "" {
				form.Set("resource", resource)
			}
			if !apiKey && (cmd.Flags().Changed("api-key-name") || cmd.Flags().Changed("api-key-scope") || cmd.Flags().Changed("api-key-expires-in-days")) {
				return errors.New("login: --api-key-name, --api-key-scope and --api-key-expires-in-days go with --api-key")
			}
			if apiKey {
				name := strings.TrimSpace(keyName)
				if name == "" {
					host, _ := os.Hostname()
					name = "gatehouse login"
					if host != "" {
						name += " on " + host
					}
				}
				if keyDays < 1 || keyDays > gatehouse.MaxAPIKeyLifetimeDays {
					return fmt.Errorf("login: --api-key-expires-in-days must be from 1 to %d", gatehouse.MaxAPIKeyLifetimeDays)
				}
				form.Set("api_key_name", name)
				form.Set("api_key_expires_in_days", strconv.Itoa(keyDays))
				if len(keyScopes) > 0 {
					form.Set("api_key_scope", strings.Join(keyScopes, " "))
				}
			}
			path, err := credentialsPath(c.env.get)
			if err != nil {
				return fmt.Errorf("login: %w", err)
			}
			return lc.run(c.ctx, form, path, resource)
		},
	}
	cmd.Flags().StringVar(&serverURL, "url", "", "the Gatehouse server's public URL, e.g. https://auth.example.com (required)")
	cmd.Flags().StringVar(&resource, "resource", "", "the resource URI the tokens are for (default: the server's default resource)")
	cmd.Flags().StringArrayVar(&scopes, "scope", nil, "a scope to ask for (repeat the flag for more; default: every scope of the resource)")
	cmd.Flags().BoolVar(&apiKey, "api-key", false, "also create an API key, approved on the same page, and print it once")
	cmd.Flags().StringVar(&keyName, "api-key-name", "", `the API key's name (default "gatehouse login on HOSTNAME")`)
	cmd.Flags().StringSliceVar(&keyScopes, "api-key-scope", nil, "a scope of the API key (repeat or separate with commas; default: profile:read, credits:read)")
	cmd.Flags().IntVar(&keyDays, "api-key-expires-in-days", gatehouse.DefaultAPIKeyLifetimeDays, "the API key's lifetime in days, 1 to 3650")
	cmd.Flags().StringVar(&clientID, "client-id", gatehouse.CLIClientID, "the OAuth client to sign in as: the built-in one, or a client registered with the device grant")
	_ = cmd.RegisterFlagCompletionFunc("api-key-scope", completeWords(gatehouse.AllScopes[:len(gatehouse.AllScopes)-1]...))
	for _, f := range []string{"url", "resource", "scope", "api-key-name", "api-key-expires-in-days", "client-id"} {
		_ = cmd.RegisterFlagCompletionFunc(f, completeNothing)
	}
	return cmd
}

// loginServerURL checks --url: an https URL, or http on a loopback address (development).
func loginServerURL(raw string) (string, error) {
	base := strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("login: --url must be the server's public URL, such as https://auth.example.com, not %q", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if ip := net.ParseIP(u.Hostname()); !(u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()) {
			return "", fmt.Errorf("login: --url %s: tokens travel only over https (http is accepted on a loopback address, for development)", base)
		}
	default:
		return "", fmt.Errorf("login: --url must be an https URL, not %q", raw)
	}
	return base, nil
}

// loginClient speaks the device flow to one server.
type loginClient struct {
	base, clientID string
	http           *http.Client
	out            io.Writer
}

// oauthAnswer is what the server's JSON answers hold; errors are RFC 6749 §5.2 bodies.
type oauthAnswer struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	// Metadata (RFC 8414).
	Issuer              string   `json:"issuer"`
	DeviceEndpoint      string   `json:"device_authorization_endpoint"`
	TokenEndpoint       string   `json:"token_endpoint"`
	GrantTypesSupported []string `json:"grant_types_supported"`
	// Device authorization (RFC 8628 §3.2).
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
	// Token response (RFC 6749 §5.1) and the API key of --api-key.
	AccessToken     string     `json:"access_token"`
	RefreshToken    string     `json:"refresh_token"`
	IDToken         string     `json:"id_token"`
	TokenType       string     `json:"token_type"`
	Scope           string     `json:"scope"`
	APIKey          string     `json:"api_key"`
	APIKeyID        string     `json:"api_key_id"`
	APIKeyName      string     `json:"api_key_name"`
	APIKeyScopes    []string   `json:"api_key_scopes"`
	APIKeyExpiresAt *time.Time `json:"api_key_expires_at"`

	status     int
	retryAfter time.Duration
}

func (lc *loginClient) call(ctx context.Context, method, endpoint string, form url.Values) (*oauthAnswer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gatehouse-login/"+version)
	resp, err := lc.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginResponse))
	if err != nil {
		return nil, err
	}
	a := &oauthAnswer{status: resp.StatusCode}
	if err := json.Unmarshal(data, a); err != nil {
		return nil, fmt.Errorf("%s answered %d without a JSON body: is --url a Gatehouse server?", endpoint, resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		a.retryAfter = time.Duration(s) * time.Second
	}
	return a, nil
}

func (a *oauthAnswer) problem() string {
	if a.Description != "" {
		return a.Error + ": " + a.Description
	}
	if a.Error != "" {
		return a.Error
	}
	return "status " + strconv.Itoa(a.status)
}

func (lc *loginClient) run(ctx context.Context, form url.Values, path, resource string) error {
	// Discovery: the server must be the issuer it was named by, and must offer the device flow.
	meta, err := lc.call(ctx, http.MethodGet, lc.base+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return fmt.Errorf("login: cannot reach %s: %w", lc.base, err)
	}
	if meta.status != http.StatusOK {
		return fmt.Errorf("login: %s has no authorization server metadata (%s): is --url a Gatehouse server?", lc.base, meta.problem())
	}
	if meta.Issuer != lc.base {
		return fmt.Errorf("login: the server at %s calls itself %q; use --url %s", lc.base, meta.Issuer, meta.Issuer)
	}
	if meta.DeviceEndpoint == "" || meta.TokenEndpoint == "" {
		return fmt.Errorf("login: %s does not offer device authorization (RFC 8628); upgrade the server", lc.base)
	}

	dev, err := lc.call(ctx, http.MethodPost, meta.DeviceEndpoint, form)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if dev.status != http.StatusOK || dev.DeviceCode == "" || dev.UserCode == "" || dev.VerificationURI == "" {
		return fmt.Errorf("login: the server refused the sign-in request: %s", dev.problem())
	}
	interval := time.Duration(dev.Interval) * time.Second
	if interval <= 0 {
		interval = defaultPollInterval
	}
	expires := time.Duration(dev.ExpiresIn) * time.Second
	if expires <= 0 {
		expires = 10 * time.Minute
	}
	link := dev.VerificationURIComplete
	if link == "" {
		link = dev.VerificationURI
	}
	fmt.Fprintf(lc.out, "To sign in, open this link in a browser on any device:\n\n    %s\n\n", link)
	fmt.Fprintf(lc.out, "and check that the page shows the code %s (or open %s and enter it).\n", dev.UserCode, dev.VerificationURI)
	fmt.Fprintf(lc.out, "Waiting for your approval; the code expires in %s.\n", gatehouse.CountNoun(int(expires/time.Minute), "minute"))

	ctx, cancel := context.WithTimeout(ctx, expires+interval)
	defer cancel()
	wait := loginWaitOf(ctx)
	poll := url.Values{"grant_type": {gatehouse.GrantDeviceCode}, "device_code": {dev.DeviceCode}, "client_id": {lc.clientID}}
	if resource != "" {
		poll.Set("resource", resource)
	}
	for {
		if err := wait(ctx, interval); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return errors.New("login: the code expired before it was approved; run gatehouse login again")
			}
			return fmt.Errorf("login: %w", err)
		}
		tok, err := lc.call(ctx, http.MethodPost, meta.TokenEndpoint, poll)
		if err != nil {
			if ctx.Err() != nil {
				return errors.New("login: the code expired before it was approved; run gatehouse login again")
			}
			// A network failure: wait longer and try again (RFC 8628 §3.5).
			interval = min(interval*2, maxPollInterval)
			continue
		}
		switch {
		case tok.status == http.StatusOK && tok.AccessToken != "":
			return lc.finish(tok, path, resource)
		case tok.Error == gatehouse.OAuthAuthorizationPending:
		case tok.Error == gatehouse.OAuthSlowDown:
			interval = min(interval+slowDownStep, maxPollInterval)
		case tok.status == http.StatusTooManyRequests || tok.status == http.StatusServiceUnavailable:
			interval = min(max(interval, tok.retryAfter), maxPollInterval)
		case tok.Error == gatehouse.OAuthAccessDenied:
			return errors.New("login: the request was denied on the approval page")
		case tok.Error == gatehouse.OAuthExpiredToken:
			return errors.New("login: the code expired before it was approved; run gatehouse login again")
		default:
			return fmt.Errorf("login: the server refused to issue tokens: %s", tok.problem())
		}
	}
}

// storedTokens is one server's entry in credentials.json.
type storedTokens struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id"`
	Resource     string    `json:"resource,omitempty"`
	TokenType    string    `json:"token_type"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Scope        string    `json:"scope"`
	ObtainedAt   time.Time `json:"obtained_at"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// credentialsFile is credentials.json: the tokens of each server signed in to, by URL.
type credentialsFile struct {
	Servers map[string]storedTokens `json:"servers"`
}

func (lc *loginClient) finish(tok *oauthAnswer, path, resource string) error {
	now := time.Now().UTC().Truncate(time.Second)
	entry := storedTokens{Issuer: lc.base, ClientID: lc.clientID, Resource: resource, TokenType: tok.TokenType,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: tok.IDToken, Scope: tok.Scope,
		ObtainedAt: now, ExpiresAt: now.Add(time.Duration(tok.ExpiresIn) * time.Second)}
	if err := saveCredentials(path, lc.base, entry); err != nil {
		// The key, if any, was minted: say so, or the user would never know it exists.
		if tok.APIKey != "" {
			fmt.Fprintf(lc.out, "created API key %q (%s); it is shown once:\n%s\n", tok.APIKeyName, tok.APIKeyID, tok.APIKey)
		}
		return fmt.Errorf("login: signed in, but the tokens could not be stored: %w", err)
	}
	scope := tok.Scope
	if scope == "" {
		scope = "(none)"
	}
	fmt.Fprintf(lc.out, "Signed in to %s; scopes: %s.\nTokens stored in %s\n", lc.base, scope, path)
	if tok.APIKey != "" {
		exp := "never"
		if tok.APIKeyExpiresAt != nil {
			exp = tok.APIKeyExpiresAt.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(lc.out, "created API key %q (id %s, scopes: %s, expires %s); it is shown once, store it now:\n%s\n",
			tok.APIKeyName, tok.APIKeyID, strings.Join(tok.APIKeyScopes, " "), exp, tok.APIKey)
	}
	return nil
}

// credentialsPath is credentials.json in the user's config directory, found as
// os.UserConfigDir finds it, from the command's environment.
func credentialsPath(getenv func(string) string) (string, error) {
	var dir string
	switch runtime.GOOS {
	case "windows":
		dir = getenv("AppData")
		if dir == "" {
			return "", errors.New("%AppData% is not set: cannot find your config directory")
		}
	case "darwin", "ios":
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("$HOME is not set: cannot find your config directory")
		}
		dir = filepath.Join(home, "Library", "Application Support")
	case "plan9":
		home := getenv("home")
		if home == "" {
			return "", errors.New("$home is not set: cannot find your config directory")
		}
		dir = filepath.Join(home, "lib")
	default:
		dir = getenv("XDG_CONFIG_HOME")
		if dir == "" || !filepath.IsAbs(dir) {
			home := getenv("HOME")
			if home == "" {
				return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set: cannot find your config directory")
			}
			dir = filepath.Join(home, ".config")
		}
	}
	return filepath.Join(dir, "gatehouse", "credentials.json"), nil
}

// saveCredentials writes the server's entry into credentials.json, keeping the other servers'.
// The directory is 0700 and the file 0600; the file is replaced by a rename, so a reader never
// sees half of it.
func saveCredentials(path, server string, entry storedTokens) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	file := credentialsFile{Servers: map[string]storedTokens{}}
	if data, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(data, &file) != nil || file.Servers == nil {
			file = credentialsFile{Servers: map[string]storedTokens{}}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	file.Servers[server] = entry
	data, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

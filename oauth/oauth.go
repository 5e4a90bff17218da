// Package oauth implements gatehouse.Provider for GitHub, LinkedIn and any OpenID Connect provider.
// It speaks the providers' protocols and nothing else: which account a provider identity signs in
// is decided by the rules in the gatehouse package.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse"
)

// DefaultTimeout bounds each call to a provider.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes bounds what is read of a provider's answer.
const maxResponseBytes = 1 << 20

// newHTTPClient is the client of every provider call. A provider that hangs costs at most timeout
// per call, never a request stuck for good.
func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: orDefault(timeout)}
}

// withBudget bounds a whole sign-in step (discovery, token, userinfo, keys) by timeout, so that
// several slow calls in a row cannot add up to more than one.
func withBudget(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(timeout))
}

func orDefault(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return DefaultTimeout
	}
	return timeout
}

// authCodeOptions are the PKCE and nonce parameters of an authorization URL.
func authCodeOptions(r gatehouse.AuthCodeRequest, withNonce bool) []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	if r.CodeChallenge != "" {
		opts = append(opts, oauth2.SetAuthURLParam("code_challenge", r.CodeChallenge),
			oauth2.SetAuthURLParam("code_challenge_method", "S256"))
	}
	if withNonce && r.Nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", r.Nonce))
	}
	return opts
}

// codeRefusals are the token endpoint errors that mean the code itself is bad: invalid_grant is
// RFC 6749's; GitHub says bad_verification_code, and redirect_uri_mismatch when the code was issued
// for another redirect URI.
var codeRefusals = []string{"invalid_grant", "bad_verification_code", "redirect_uri_mismatch"}

// exchange redeems a code at the token endpoint of conf. A refusal of the code is the client's
// fault (400): the errors in codeRefusals, plus the provider's own in alsoRefusals. Anything else,
// including a refusal of our client credentials, is the provider's or the operator's (502).
func exchange(ctx context.Context, name string, client *http.Client, conf oauth2.Config, r gatehouse.CodeExchange, alsoRefusals ...string) (*oauth2.Token, error) {
	conf.RedirectURL = r.RedirectURI
	var opts []oauth2.AuthCodeOption
	if r.CodeVerifier != "" {
		opts = append(opts, oauth2.VerifierOption(r.CodeVerifier))
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), r.Code, opts...)
	if err == nil {
		return tok, nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if slices.Contains(codeRefusals, re.ErrorCode) || slices.Contains(alsoRefusals, re.ErrorCode) {
			return nil, gatehouse.InvalidOAuthCode(fmt.Errorf("%s: %s", name, re.ErrorCode))
		}
		return nil, gatehouse.ProviderError(name, fmt.Errorf("token endpoint: status %d, error %q", re.Response.StatusCode, re.ErrorCode))
	}
	return nil, gatehouse.ProviderError(name, fmt.Errorf("token endpoint: %w", err))
}

// getJSON fetches url with the access token and decodes the JSON answer into v. Any failure is
// the provider's.
func getJSON(ctx context.Context, name string, client *http.Client, url string, tok *oauth2.Token, header http.Header, v any) error {
	status, err := getJSONStatus(ctx, client, url, tok, header, v)
	if err != nil {
		return gatehouse.ProviderError(name, err)
	}
	if status != http.StatusOK {
		return gatehouse.ProviderError(name, fmt.Errorf("GET %s: status %d", url, status))
	}
	return nil
}

// getJSONStatus is getJSON for callers that handle some statuses themselves: v is decoded only on 200.
func getJSONStatus(ctx context.Context, client *http.Client, url string, tok *oauth2.Token, header http.Header, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, fmt.Errorf("GET %s: the answer is not the expected JSON: %w", url, err)
	}
	return resp.StatusCode, nil
}

// flexBool reads a boolean claim that some providers send as a string ("true").
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true":
		*b = true
	case "false", "null", "":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", data)
	}
	return nil
}

// trimBase drops a trailing slash, so that configured URLs join with paths the same way either way.
func trimBase(u string) string { return strings.TrimRight(u, "/") }

var errNoUserID = errors.New("the answer carries no user id")

func errStatus(path string, status int) error { return fmt.Errorf("GET %s: status %d", path, status) }

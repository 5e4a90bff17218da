package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
)

// oauth doctor replays, against a running Gatehouse, what an MCP client does before it can get
// a token (discovery, registration, the authorization request), and reports each step a real
// client would trip on, with the fix. It talks HTTP only, as a client does; where the database
// this command reads is there, it also checks that the resource is registered in it.

// doctorClientName is the name of the client doctor registers through dynamic registration.
const doctorClientName = "gatehouse-doctor"

// doctorRedirectURI is the loopback redirect URI of doctor's client; nothing listens there, and
// doctor never follows the redirect.
const doctorRedirectURI = "http://127.0.0.1/gatehouse-doctor/callback"

// doctorOrigin is the browser origin doctor claims when it checks CORS.
const doctorOrigin = "https://mcp-client.example"

func (c *cli) oauthCommand() *cobra.Command {
	var resource, rawURL string
	doctor := &cobra.Command{
		Use:   "doctor --resource URI [--url PUBLIC_URL]",
		Short: "Check a running server as an MCP client sees it; one line per check, with the fix",
		Long: `Check a running Gatehouse the way an MCP client (or any OAuth client) meets it: the
authorization server metadata at both well-known URLs, the issuer (equal to the URL fetched and
to GATEHOUSE_PUBLIC_URL, byte for byte), PKCE S256, the iss parameter, metadata documents, dynamic
registration, an authorization request for the resource, CORS and the JWKS. Each check prints a
line: PASS, WARN (a client may cope) or FAIL (a client will stop there), with the fix.

Run it after changing GATEHOUSE_PUBLIC_URL or the proxy in front of Gatehouse, with --url the URL
clients use (default: GATEHOUSE_PUBLIC_URL). When dynamic registration is on, doctor registers a
public client named "gatehouse-doctor" with a loopback redirect URI to try the authorization
request; it prints its client_id, which "gatehouse clients revoke" removes.

The exit status is 1 when any check fails.`,
		Example: `  gatehouse oauth doctor --resource https://mcp.example.com/mcp
  gatehouse oauth doctor --resource https://mcp.example.com/mcp --url https://auth.example.com`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "resource"); err != nil {
				return err
			}
			cfg, err := c.config()
			if err != nil {
				return err
			}
			d := &doctor{
				ctx: c.ctx, out: c.stdout, resource: strings.TrimSpace(resource),
				configured: strings.TrimSpace(c.env.get("GATEHOUSE_PUBLIC_URL")),
				http: &http.Client{
					Timeout: 15 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error {
						return http.ErrUseLastResponse // a client does not follow redirects for these
					},
				},
			}
			d.base = strings.TrimSpace(rawURL)
			if d.base == "" {
				d.base = d.configured
			}
			if d.base == "" {
				return fmt.Errorf("oauth doctor: GATEHOUSE_PUBLIC_URL is not set; give the URL clients use with --url (see %s --help)", cmd.CommandPath())
			}
			if u, err := url.Parse(d.base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("oauth doctor: --url must be an http or https URL, such as https://auth.example.com, not %q", d.base)
			}
			if u, err := url.Parse(d.resource); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("oauth doctor: --resource must be the resource's URL, such as https://mcp.example.com/mcp, not %q", d.resource)
			}
			d.registered = func(ctx context.Context) (bool, string, error) {
				if err := requireDatabase(ctx, cfg); err != nil {
					return false, "", errNoDatabase
				}
				a, err := c.open(existingDatabase)
				if err != nil {
					return false, "", err
				}
				defer a.Close()
				rs, err := a.authz.ListResources(ctx)
				if err != nil {
					return false, "", err
				}
				return slices.ContainsFunc(rs, func(r *gatehouse.Resource) bool { return r.URI == d.resource }) ||
					d.resource == gatehouse.OwnAPIResource(d.configured), describeDatabase(a.cfg), nil
			}
			d.run()
			fmt.Fprintf(c.stdout, "%s: %d passed, %s, %d failed\n", gatehouse.CountNoun(d.total(), "check"), d.passed, gatehouse.CountNoun(d.warned, "warning"), d.failed)
			if d.failed > 0 {
				return fmt.Errorf("oauth doctor: %s failed; see the FAIL lines above", gatehouse.CountNoun(d.failed, "check"))
			}
			return nil
		},
	}
	doctor.Flags().StringVar(&resource, "resource", "", "the resource URI clients send, such as your MCP server's URL (required)")
	doctor.Flags().StringVar(&rawURL, "url", "", "the URL clients reach Gatehouse at (default GATEHOUSE_PUBLIC_URL)")
	_ = doctor.RegisterFlagCompletionFunc("resource", completeNothing)
	_ = doctor.RegisterFlagCompletionFunc("url", completeNothing)
	return group("oauth", "Check the OAuth 2.1 / OpenID Connect provider", doctor)
}

var errNoDatabase = errors.New("no database here")

type doctor struct {
	ctx        context.Context
	out        io.Writer
	http       *http.Client
	base       string // the URL used, as given
	configured string // GATEHOUSE_PUBLIC_URL of this command's configuration
	resource   string
	registered func(context.Context) (ok bool, where string, err error)

	meta     map[string]any
	issuer   string
	clientID string // the client doctor registered

	passed, warned, failed int
}

func (d *doctor) total() int { return d.passed + d.warned + d.failed }

func (d *doctor) pass(name, detail string) {
	d.passed++
	fmt.Fprintf(d.out, "PASS  %s: %s\n", name, detail)
}

func (d *doctor) warn(name, detail, fix string) {
	d.warned++
	fmt.Fprintf(d.out, "WARN  %s: %s; fix: %s\n", name, detail, fix)
}

func (d *doctor) fail(name, detail, fix string) {
	d.failed++
	fmt.Fprintf(d.out, "FAIL  %s: %s; fix: %s\n", name, detail, fix)
}

// fetched is an HTTP exchange doctor made.
type fetched struct {
	status int
	header http.Header
	body   []byte
}

func (f *fetched) isJSON() bool {
	mt, _, _ := mime.ParseMediaType(f.header.Get("Content-Type"))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func (d *doctor) send(method, target string, body io.Reader, headers ...string) (*fetched, error) {
	ctx, cancel := context.WithTimeout(d.ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "gatehouse-doctor/"+version)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &fetched{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// netFix explains a failed connection.
func netFix(target string, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "this address speaks plain http: use --url http://..., or put the TLS-terminating proxy in front of it"
	case strings.Contains(msg, "first record does not look like a TLS handshake"), strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"):
		return "the TLS set-up at " + hostOf(target) + " fails for clients: check the proxy's certificate (the CA bundle here is the system's; SSL_CERT_FILE is honoured)"
	case strings.Contains(msg, "connection refused"):
		return "nothing listens at " + hostOf(target) + ": start gatehouse serve, or give the URL clients use with --url"
	case strings.Contains(msg, "no such host"):
		return "the host name " + hostOf(target) + " does not resolve here: check DNS, or give another --url"
	}
	return "check that " + hostOf(target) + " is reachable from here"
}

// errText is a request's error without the method and URL net/http repeats.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func hostOf(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Host
	}
	return s
}

func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	return truncate(s, 80)
}

// originOf is scheme://host of a URL.
func originOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Scheme + "://" + u.Host
}

func (d *doctor) run() {
	base := d.base
	if strings.HasSuffix(base, "/") {
		d.fail("url", fmt.Sprintf("%s ends with a slash; the issuer is the origin root without one, and clients compare it byte for byte", base),
			"use "+strings.TrimRight(base, "/")+" (in GATEHOUSE_PUBLIC_URL too)")
		base = strings.TrimRight(base, "/")
		d.base = base
	}
	if !d.metadata() {
		return
	}
	d.issuerChecks()
	d.capabilities()
	d.registration()
	d.authorization()
	d.resourceChecks()
	d.tokenEndpoint()
	d.jwks()
}

// metadata fetches both well-known documents; false when neither can be used.
func (d *doctor) metadata() bool {
	var docs [2]map[string]any
	for i, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		name := "metadata " + path
		target := d.base + path
		f, err := d.send("GET", target, nil, "Origin", doctorOrigin, "Accept", "application/json")
		if err != nil {
			d.fail(name, "GET "+target+": "+errText(err), netFix(target, err))
			continue
		}
		switch {
		case f.status >= 300 && f.status < 400:
			loc := f.header.Get("Location")
			fix := "serve the metadata at this URL itself (clients do not follow redirects here), or give the URL it redirects to with --url and in GATEHOUSE_PUBLIC_URL"
			if strings.HasPrefix(target, "http://") && strings.HasPrefix(loc, "https://") {
				fix = "the proxy redirects http to https: clients must use https; run with --url " + originOf(loc) + " and set GATEHOUSE_PUBLIC_URL=" + originOf(loc)
			}
			d.fail(name, fmt.Sprintf("%d redirect to %s", f.status, loc), fix)
			continue
		case f.status != http.StatusOK:
			d.fail(name, fmt.Sprintf("status %d (%s)", f.status, excerpt(f.body)),
				"this URL does not reach Gatehouse's API: check the proxy forwards /.well-known/ to Gatehouse, and that --url is right")
			continue
		case !f.isJSON():
			d.fail(name, fmt.Sprintf("200 but %q, not JSON (%s)", f.header.Get("Content-Type"), excerpt(f.body)),
				"the proxy answers this path itself: forward /.well-known/ to Gatehouse")
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(f.body, &m); err != nil {
			d.fail(name, "the body is not a JSON object: "+err.Error(), "forward /.well-known/ to Gatehouse unchanged")
			continue
		}
		docs[i] = m
		d.pass(name, "200, JSON")
		if f.header.Get("Access-Control-Allow-Origin") == "" {
			d.fail("CORS "+path, "no Access-Control-Allow-Origin for a browser origin; browser-based MCP clients cannot read the metadata",
				"let the proxy pass Gatehouse's CORS headers through (do not strip or override Access-Control-*)")
		} else {
			d.pass("CORS "+path, "Access-Control-Allow-Origin: "+f.header.Get("Access-Control-Allow-Origin"))
		}
	}
	switch {
	case docs[0] == nil && docs[1] == nil:
		return false
	case docs[0] == nil:
		d.meta = docs[1]
	case docs[1] == nil:
		d.meta = docs[0]
	default:
		d.meta = docs[0]
		if reflect.DeepEqual(docs[0], docs[1]) {
			d.pass("metadata documents identical", "/.well-known/oauth-authorization-server and /.well-known/openid-configuration say the same")
		} else {
			var differ []string
			for k := range docs[0] {
				if !reflect.DeepEqual(docs[0][k], docs[1][k]) {
					differ = append(differ, k)
				}
			}
			for k := range docs[1] {
				if _, ok := docs[0][k]; !ok {
					differ = append(differ, k)
				}
			}
			slices.Sort(differ)
			d.fail("metadata documents identical", "they differ in "+strings.Join(differ, ", "),
				"both paths must reach the same Gatehouse: check the proxy routes /.well-known/openid-configuration and /.well-known/oauth-authorization-server alike")
		}
	}
	d.issuer, _ = d.meta["issuer"].(string)
	return true
}

func (d *doctor) issuerChecks() {
	iss := d.issuer
	if iss == "" {
		d.fail("issuer", "the metadata has no issuer", "upgrade Gatehouse, or check that this URL reaches Gatehouse")
		return
	}
	if iss == d.base {
		d.pass("issuer equals the URL used", iss)
	} else {
		fix := "set GATEHOUSE_PUBLIC_URL=" + d.base + " on the server and restart it, or run doctor with the URL clients use (--url " + iss + ")"
		ui, _ := url.Parse(iss)
		ub, _ := url.Parse(d.base)
		if ui != nil && ub != nil && ui.Host == ub.Host && ui.Scheme != ub.Scheme {
			fix = fmt.Sprintf("scheme mismatch (%s fetched, %s in the issuer): behind a TLS-terminating proxy GATEHOUSE_PUBLIC_URL must be the https URL clients use; set GATEHOUSE_PUBLIC_URL=%s://%s and restart, or run doctor with --url %s", ub.Scheme, ui.Scheme, "https", ub.Host, iss)
		}
		d.fail("issuer equals the URL used", fmt.Sprintf("issuer %q, fetched from %q; clients refuse metadata whose issuer is not the URL they fetched", iss, d.base), fix)
	}
	switch {
	case d.configured == "":
		d.warn("issuer equals GATEHOUSE_PUBLIC_URL", "GATEHOUSE_PUBLIC_URL is not set in this command's environment, so the issuer is the listen address",
			"set GATEHOUSE_PUBLIC_URL to the URL clients use, for the server and for this command")
	case iss == d.configured:
		d.pass("issuer equals GATEHOUSE_PUBLIC_URL", iss)
	case iss == strings.TrimRight(d.configured, "/"):
		d.fail("issuer equals GATEHOUSE_PUBLIC_URL", fmt.Sprintf("GATEHOUSE_PUBLIC_URL %q ends with a slash; the issuer is %q", d.configured, iss),
			"remove the trailing slash from GATEHOUSE_PUBLIC_URL")
	default:
		d.fail("issuer equals GATEHOUSE_PUBLIC_URL", fmt.Sprintf("the server's issuer is %q, GATEHOUSE_PUBLIC_URL here is %q", iss, d.configured),
			"the server runs with another configuration: set GATEHOUSE_PUBLIC_URL alike for both and restart the server")
	}
	u, err := url.Parse(iss)
	switch {
	case err != nil || u.Host == "":
		d.fail("issuer form", fmt.Sprintf("%q is not an absolute URL", iss), "set GATEHOUSE_PUBLIC_URL to the origin clients use, such as https://auth.example.com")
	case strings.HasSuffix(iss, "/") || u.RawQuery != "" || u.Fragment != "":
		d.fail("issuer form", fmt.Sprintf("%q has a trailing slash, query or fragment", iss), "set GATEHOUSE_PUBLIC_URL to the bare origin, such as https://auth.example.com")
	case u.Scheme == "https":
		d.pass("issuer form", "https, no trailing slash")
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		d.pass("issuer form", "http on a loopback address (development only; clients elsewhere need https)")
	default:
		d.fail("issuer form", fmt.Sprintf("%q is plain http on a non-loopback host; OAuth 2.1 and MCP clients require https", iss),
			"serve Gatehouse over https (a TLS-terminating proxy) and set GATEHOUSE_PUBLIC_URL=https://"+u.Host)
	}
	// Every endpoint should live under the issuer: one that does not betrays a proxy rewriting.
	var off []string
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "registration_endpoint", "jwks_uri", "revocation_endpoint", "userinfo_endpoint"} {
		if v, ok := d.meta[k].(string); ok && v != "" && !strings.HasPrefix(v, iss+"/") {
			off = append(off, k+"="+v)
		}
	}
	if len(off) > 0 {
		d.warn("endpoints under the issuer", strings.Join(off, ", "), "the proxy rewrites the metadata, or several configurations are in play: serve it unchanged")
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (d *doctor) capabilities() {
	methods := stringList(d.meta["code_challenge_methods_supported"])
	switch {
	case !slices.Contains(methods, "S256"):
		d.fail("PKCE", fmt.Sprintf("code_challenge_methods_supported is %v, without S256; MCP clients refuse to proceed", methods), "upgrade Gatehouse, or check that this URL reaches Gatehouse")
	case slices.Contains(methods, "plain"):
		d.fail("PKCE", "plain is advertised; OAuth 2.1 allows S256 only", "upgrade Gatehouse, or check that this URL reaches Gatehouse")
	default:
		d.pass("PKCE", "code_challenge_methods_supported: S256 only")
	}
	if v, _ := d.meta["authorization_response_iss_parameter_supported"].(bool); v {
		d.pass("iss parameter", "authorization_response_iss_parameter_supported: true (RFC 9207)")
	} else {
		d.fail("iss parameter", "authorization_response_iss_parameter_supported is not true; clients cannot detect mix-up attacks", "upgrade Gatehouse, or check that this URL reaches Gatehouse")
	}
	if v, _ := d.meta["client_id_metadata_document_supported"].(bool); v {
		d.pass("client metadata documents", "client_id_metadata_document_supported: true")
	} else {
		d.warn("client metadata documents", "client_id_metadata_document_supported is not true; clients that identify themselves by URL must register instead",
			"upgrade Gatehouse, or check that this URL reaches Gatehouse")
	}
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (d *doctor) registration() {
	endpoint, _ := d.meta["registration_endpoint"].(string)
	if endpoint == "" {
		d.warn("dynamic registration", "no registration_endpoint; clients without a metadata document or a pre-registered client_id cannot sign in",
			"turn it on (unset GATEHOUSE_OAUTH_DCR or set it to on), or give such clients a client_id with gatehouse clients create")
		return
	}
	body, _ := json.Marshal(map[string]any{
		"client_name": doctorClientName, "redirect_uris": []string{doctorRedirectURI}, "token_endpoint_auth_method": "none",
		"grant_types": []string{gatehouse.GrantAuthCode, gatehouse.GrantRefresh}, "response_types": []string{"code"},
	})
	f, err := d.send("POST", endpoint, bytes.NewReader(body), "Content-Type", "application/json", "Origin", doctorOrigin)
	if err != nil {
		d.fail("dynamic registration", "POST "+endpoint+": "+errText(err), netFix(endpoint, err))
		return
	}
	var out struct {
		ClientID string `json:"client_id"`
		Error    string `json:"error"`
		Desc     string `json:"error_description"`
	}
	_ = json.Unmarshal(f.body, &out)
	switch {
	case f.status == http.StatusTooManyRequests:
		d.warn("dynamic registration", "429: this address has registered too many clients lately", "wait, or raise client_register_ip in GATEHOUSE_RATE_LIMITS; the rest of the checks need a client")
		return
	case f.status != http.StatusCreated || out.ClientID == "":
		d.fail("dynamic registration", fmt.Sprintf("POST %s: status %d %s %s", endpoint, f.status, out.Error, dash(out.Desc)),
			"check that the proxy forwards POST /oauth2/register to Gatehouse with its JSON body")
		return
	}
	d.clientID = out.ClientID
	d.pass("dynamic registration", fmt.Sprintf("registered public client %q with a loopback redirect: client_id %s (remove it with gatehouse clients revoke %s)", doctorClientName, out.ClientID, out.ClientID))
	if f.header.Get("Access-Control-Allow-Origin") == "" {
		d.fail("CORS registration", "no Access-Control-Allow-Origin on the registration response; browser-based clients cannot register",
			"let the proxy pass Gatehouse's CORS headers through")
	} else {
		d.pass("CORS registration", "Access-Control-Allow-Origin: "+f.header.Get("Access-Control-Allow-Origin"))
	}
}

// authorizeURL is an authorization request of doctor's client for the resource.
func (d *doctor) authorizeURL(method string) string {
	endpoint, _ := d.meta["authorization_endpoint"].(string)
	sum := sha256.Sum256([]byte("gatehouse-doctor-verifier-" + gatehouse.RandomToken(16)))
	q := url.Values{
		"response_type": {"code"}, "client_id": {d.clientID}, "redirect_uri": {doctorRedirectURI},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {method},
		"state": {"doctor-state"}, "resource": {d.resource},
	}
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + q.Encode()
}

func (d *doctor) authorization() {
	const name, bogus = "authorization request", "bogus PKCE method"
	endpoint, _ := d.meta["authorization_endpoint"].(string)
	if endpoint == "" {
		d.fail(name, "the metadata has no authorization_endpoint", "upgrade Gatehouse, or check that this URL reaches Gatehouse")
		return
	}
	if d.clientID == "" {
		d.warn(name, "not tried: doctor has no client (dynamic registration is off or failed)", "turn dynamic registration on to let doctor try it")
		return
	}
	// A good request from a browser that is not signed in: the sign-in page, never an error.
	target := d.authorizeURL("S256")
	f, err := d.send("GET", target, nil)
	if err != nil {
		d.fail(name, "GET "+endpoint+": "+errText(err), netFix(endpoint, err))
	} else {
		loc := f.header.Get("Location")
		lu, _ := url.Parse(loc)
		switch {
		case f.status == http.StatusNotFound:
			d.fail(name, "404 at "+endpoint, "this build or the proxy does not serve the authorization endpoint: forward /oauth2/authorize to Gatehouse")
		case f.status < 300 || f.status >= 400 || lu == nil:
			d.fail(name, fmt.Sprintf("status %d without a redirect (%s)", f.status, excerpt(f.body)),
				"a not-signed-in browser should be sent to /login: check the request parameters and the proxy")
		case strings.HasPrefix(loc, doctorRedirectURI):
			q := lu.Query()
			fix := "see the error"
			if q.Get("error") == gatehouse.OAuthInvalidTarget {
				fix = "register the resource: gatehouse resources add --uri " + d.resource + " --name NAME"
			}
			d.fail(name, fmt.Sprintf("redirected to the client with error=%s (%s)", q.Get("error"), q.Get("error_description")), fix)
		case lu.Path == "/login" && (lu.Host == "" || originOf(loc) == d.issuer):
			d.pass(name, "resource="+d.resource+" accepted; a signed-out browser is sent to /login")
		case lu.Path == "/login":
			d.fail(name, "the sign-in redirect goes to "+originOf(loc)+", not to the issuer "+d.issuer,
				"set GATEHOUSE_PUBLIC_URL (and GATEHOUSE_APP_URL, if set) to the URL users reach")
		default:
			d.warn(name, fmt.Sprintf("%d redirect to %s, not to /login", f.status, loc), "check the proxy does not rewrite the authorization endpoint's redirects")
		}
	}
	// A request with an unknown PKCE method: an error redirect to the client, carrying iss.
	target = d.authorizeURL("bogus")
	f, err = d.send("GET", target, nil)
	if err != nil {
		d.fail(bogus, "GET "+endpoint+": "+errText(err), netFix(endpoint, err))
		return
	}
	loc := f.header.Get("Location")
	lu, _ := url.Parse(loc)
	switch {
	case f.status < 300 || f.status >= 400 || lu == nil:
		d.fail(bogus, fmt.Sprintf("status %d without a redirect (%s); the client never learns why", f.status, excerpt(f.body)),
			"forward /oauth2/authorize to Gatehouse unchanged")
	case strings.HasPrefix(loc, doctorRedirectURI):
		q := lu.Query()
		switch {
		case q.Get("iss") == "":
			d.fail(bogus, "error="+q.Get("error")+" redirect without iss (RFC 9207); clients that check it stop here", "upgrade Gatehouse")
		case q.Get("iss") != d.issuer:
			d.fail(bogus, fmt.Sprintf("iss=%s in the redirect, the metadata's issuer is %s; clients take this for a mix-up attack", q.Get("iss"), d.issuer),
				"run every instance with the same GATEHOUSE_PUBLIC_URL")
		case q.Get("error") == "" || q.Get("state") != "doctor-state":
			d.fail(bogus, "redirect without an error or without the state", "upgrade Gatehouse")
		default:
			d.pass(bogus, "refused with error="+q.Get("error")+", iss and state in the redirect")
		}
	case lu.Path == "/login":
		d.warn(bogus, "sent to /login before the request is checked; the client learns of the error only after the user signs in",
			"upgrade Gatehouse")
	default:
		d.fail(bogus, fmt.Sprintf("%d redirect to %s", f.status, loc), "check the proxy does not rewrite the authorization endpoint's redirects")
	}
}

func (d *doctor) resourceChecks() {
	const name = "resource registered"
	ok, where, err := d.registered(d.ctx)
	switch {
	case errors.Is(err, errNoDatabase):
		d.warn(name, "no database here to look in; the authorization request above is the evidence", "run doctor where the server's configuration and database are")
	case err != nil:
		d.warn(name, "could not read the resources: "+err.Error(), "run doctor with the server's configuration")
	case ok:
		d.pass(name, d.resource+" in database "+where)
	default:
		d.fail(name, d.resource+" is not in database "+where+"; clients get invalid_target", "gatehouse resources add --uri "+d.resource+" --name NAME [--scope S]...")
	}

	// The resource's protected resource metadata (RFC 9728), where MCP clients start.
	u, _ := url.Parse(d.resource)
	path := strings.TrimRight(u.EscapedPath(), "/")
	target := u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + path
	const prm = "protected resource metadata"
	f, err := d.send("GET", target, nil, "Accept", "application/json")
	if err != nil {
		d.warn(prm, "GET "+target+": unreachable from here ("+errText(err)+")", "MCP clients start there: serve it from the resource (the resource kits do), listing "+d.issuer+" in authorization_servers")
		return
	}
	var m struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if f.status != http.StatusOK || !f.isJSON() || json.Unmarshal(f.body, &m) != nil {
		d.warn(prm, fmt.Sprintf("GET %s: status %d, %q", target, f.status, f.header.Get("Content-Type")),
			"MCP clients start there: serve it from the resource (the resource kits do), listing "+d.issuer+" in authorization_servers")
		return
	}
	switch {
	case !slices.Contains(m.AuthorizationServers, d.issuer):
		d.fail(prm, fmt.Sprintf("authorization_servers is %v, without %s", m.AuthorizationServers, d.issuer),
			"list "+d.issuer+" (exactly, no trailing slash) in the resource's authorization_servers")
	case m.Resource != d.resource:
		d.fail(prm, fmt.Sprintf("its resource is %q, not %q; clients refuse metadata for another resource", m.Resource, d.resource),
			"make the resource's metadata name its own URL, and register that URL")
	default:
		d.pass(prm, target+" names "+d.issuer)
	}
}

func (d *doctor) tokenEndpoint() {
	const name = "token endpoint"
	endpoint, _ := d.meta["token_endpoint"].(string)
	if endpoint == "" {
		d.fail(name, "the metadata has no token_endpoint", "upgrade Gatehouse, or check that this URL reaches Gatehouse")
		return
	}
	f, err := d.send("OPTIONS", endpoint, nil, "Origin", doctorOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	switch {
	case err != nil:
		d.fail("CORS token endpoint", "preflight: "+err.Error(), netFix(endpoint, err))
	case f.header.Get("Access-Control-Allow-Origin") == "" || f.status >= 300:
		d.fail("CORS token endpoint", fmt.Sprintf("preflight answered %d without Access-Control-Allow-Origin; browser-based clients cannot get tokens", f.status),
			"let the proxy pass OPTIONS and Gatehouse's CORS headers through")
	default:
		d.pass("CORS token endpoint", "preflight allowed for any origin")
	}
	// A made-up code: an RFC 6749 JSON error a client can read, with CORS.
	form := url.Values{"grant_type": {gatehouse.GrantAuthCode}, "code": {"gatehouse-doctor-no-such-code"}, "redirect_uri": {doctorRedirectURI},
		"code_verifier": {strings.Repeat("v", 43)}, "client_id": {d.clientID}}
	if d.clientID == "" {
		form.Set("client_id", "gatehouse-doctor-no-such-client")
	}
	f, err = d.send("POST", endpoint, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Origin", doctorOrigin)
	if err != nil {
		d.fail(name, "POST "+endpoint+": "+errText(err), netFix(endpoint, err))
		return
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(f.body, &e)
	switch {
	case !f.isJSON() || e.Error == "":
		d.fail(name, fmt.Sprintf("status %d, %q: not an RFC 6749 JSON error (%s)", f.status, f.header.Get("Content-Type"), excerpt(f.body)),
			"forward POST /oauth2/token to Gatehouse, and let its error answers through unchanged")
	case d.clientID != "" && e.Error != gatehouse.OAuthInvalidGrant:
		d.fail(name, fmt.Sprintf("a made-up code for the client just registered got %d %s, not invalid_grant", f.status, e.Error),
			"if invalid_client: the instances behind the proxy do not share one database")
	default:
		d.pass(name, fmt.Sprintf("answers OAuth errors as JSON (%d %s)", f.status, e.Error))
	}
	if ao := f.header.Get("Access-Control-Allow-Origin"); ao == "" {
		d.fail("CORS token response", "no Access-Control-Allow-Origin on the token endpoint's answer", "let the proxy pass Gatehouse's CORS headers through")
	} else if !strings.Contains(strings.ToLower(f.header.Get("Access-Control-Expose-Headers")), "www-authenticate") {
		d.warn("CORS token response", "WWW-Authenticate is not exposed to browsers", "let the proxy pass Access-Control-Expose-Headers through")
	} else {
		d.pass("CORS token response", "Access-Control-Allow-Origin: "+ao+", WWW-Authenticate exposed")
	}
}

func (d *doctor) jwks() {
	const name = "JWKS"
	endpoint, _ := d.meta["jwks_uri"].(string)
	if endpoint == "" {
		d.fail(name, "the metadata has no jwks_uri", "upgrade Gatehouse, or check that this URL reaches Gatehouse")
		return
	}
	f, err := d.send("GET", endpoint, nil, "Origin", doctorOrigin)
	if err != nil {
		d.fail(name, "GET "+endpoint+": "+errText(err), netFix(endpoint, err))
		return
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if f.status != http.StatusOK || json.Unmarshal(f.body, &set) != nil || len(set.Keys) == 0 {
		d.fail(name, fmt.Sprintf("GET %s: status %d, no keys (%s)", endpoint, f.status, excerpt(f.body)),
			"forward /.well-known/jwks.json to Gatehouse; resource servers verify tokens with it")
		return
	}
	d.pass(name, fmt.Sprintf("%s at %s", gatehouse.CountNoun(len(set.Keys), "key"), endpoint))
	if f.header.Get("Access-Control-Allow-Origin") == "" {
		d.fail("CORS JWKS", "no Access-Control-Allow-Origin on the JWKS", "let the proxy pass Gatehouse's CORS headers through")
	} else {
		d.pass("CORS JWKS", "Access-Control-Allow-Origin: "+f.header.Get("Access-Control-Allow-Origin"))
	}
}

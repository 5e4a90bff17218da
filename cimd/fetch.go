package cimd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	// DefaultTimeout bounds one fetch: connect, TLS, request, response and body together.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxBytes bounds the body read; a larger body is an error.
	DefaultMaxBytes = 64 << 10
	// DefaultUserAgent is sent when Options.UserAgent is empty.
	DefaultUserAgent = "Gatehouse-CIMD/1"
)

// Options configure a Fetcher. The zero value is the production configuration.
type Options struct {
	// AllowPrivateNetworks lets the fetcher connect to loopback, private, link-local and other
	// non-public addresses. For tests and local development only: in production it turns every
	// client_id into a way to make Gatehouse send requests inside its own network.
	AllowPrivateNetworks bool
	// TLSConfig replaces the TLS client configuration. Nil means the system's CA bundle (Go
	// honours SSL_CERT_FILE and SSL_CERT_DIR). To trust one extra CA, set RootCAs here.
	TLSConfig *tls.Config
	// Timeout bounds one fetch end to end; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds the response body; zero means DefaultMaxBytes.
	MaxBytes int64
	// NegativeTTL is how long a failed fetch is remembered, during which Fetch returns the same
	// error without contacting the host. Zero means DefaultNegativeTTL; negative disables it.
	NegativeTTL time.Duration
	// CacheSize bounds the number of cached entries; zero means DefaultCacheSize.
	CacheSize int
	// Now is the clock used for cache lifetimes; nil means time.Now.
	Now func() time.Time
	// UserAgent is sent with each request; empty means DefaultUserAgent.
	UserAgent string
}

// Fetcher fetches, validates and caches Client ID Metadata Documents. It is safe for concurrent
// use; create one per process with New and share it.
type Fetcher struct {
	client      *http.Client
	timeout     time.Duration
	maxBytes    int64
	negativeTTL time.Duration
	now         func() time.Time
	userAgent   string

	mu       sync.Mutex
	cache    *cache
	inflight map[string]*call

	// testHookJoin, when set, is called (without the lock) each time a Fetch joins a fetch
	// already in flight. Tests use it to know every caller has joined before releasing a server.
	testHookJoin func()
}

// call is one fetch in flight, shared by every Fetch of the same client_id meanwhile.
type call struct {
	done chan struct{}
	doc  *Document
	err  *Error
}

// New returns a Fetcher configured by o.
func New(o Options) *Fetcher {
	f := &Fetcher{
		timeout:     o.Timeout,
		maxBytes:    o.MaxBytes,
		negativeTTL: o.NegativeTTL,
		now:         o.Now,
		userAgent:   o.UserAgent,
		inflight:    map[string]*call{},
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if f.maxBytes <= 0 {
		f.maxBytes = DefaultMaxBytes
	}
	if f.negativeTTL == 0 {
		f.negativeTTL = DefaultNegativeTTL
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.userAgent == "" {
		f.userAgent = DefaultUserAgent
	}
	size := o.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	f.cache = newCache(size)

	var tlsConfig *tls.Config
	if o.TLSConfig != nil {
		tlsConfig = o.TLSConfig.Clone()
	} else {
		tlsConfig = &tls.Config{}
	}
	if tlsConfig.MinVersion == 0 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}

	control := dialControl
	if o.AllowPrivateNetworks {
		control = tcpOnlyControl
	}
	dialer := &net.Dialer{Timeout: f.timeout, Control: control}
	transport := &http.Transport{
		// No proxy, ever: a proxy would make the connection the guard sees the proxy's, not
		// the client_id host's.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConfig,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    f.timeout,
		ResponseHeaderTimeout:  f.timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    1,
		IdleConnTimeout:        30 * time.Second,
	}
	f.client = &http.Client{
		Transport: transport,
		// Never follow a redirect: hand the 3xx back so fetch refuses it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       f.timeout,
	}
	return f
}

func tcpOnlyControl(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return &blockedAddrError{addr: network + " " + address}
	}
	return nil
}

// Fetch returns the validated metadata document for clientID, from the cache when a live copy
// is there, else fetched over HTTPS. Every error is an *Error whose Reason is safe to show the
// client. Concurrent calls for one clientID share a single request. ctx bounds only this
// caller's wait: the shared fetch is bounded by Options.Timeout, so one caller giving up does not
// fail the others. The returned Document is the caller's own copy.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (*Document, error) {
	u, perr := parseClientID(clientID)
	if perr != nil {
		return nil, perr
	}
	if err := ctx.Err(); err != nil {
		return nil, cancelled(err)
	}
	f.mu.Lock()
	if e := f.cache.get(clientID, f.now()); e != nil {
		f.mu.Unlock()
		if e.err != nil {
			return nil, e.err
		}
		return e.doc.clone(), nil
	}
	c, joined := f.inflight[clientID]
	if !joined {
		c = &call{done: make(chan struct{})}
		f.inflight[clientID] = c
		go f.run(context.WithoutCancel(ctx), clientID, u, c)
	}
	f.mu.Unlock()
	if joined && f.testHookJoin != nil {
		f.testHookJoin()
	}

	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, cancelled(ctx.Err())
	}
	if c.err != nil {
		return nil, c.err
	}
	return c.doc.clone(), nil
}

func cancelled(err error) *Error {
	return failWith("the request was cancelled before the client metadata document was fetched", err)
}

// run performs the fetch for c and records the outcome in the cache.
func (f *Fetcher) run(ctx context.Context, clientID string, u *url.URL, c *call) {
	doc, ttl, err := f.fetch(ctx, clientID, u)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if err != nil {
		c.err = err
		if f.negativeTTL > 0 {
			f.cache.put(&entry{key: clientID, err: err, expires: now.Add(f.negativeTTL)})
		}
	} else {
		doc.FetchedAt = now
		doc.Expires = now.Add(ttl)
		c.doc = doc
		f.cache.put(&entry{key: clientID, doc: doc, expires: doc.Expires})
	}
	delete(f.inflight, clientID)
	close(c.done)
}

// fetch GETs the document once and validates it; it never touches the cache.
func (f *Fetcher) fetch(ctx context.Context, clientID string, u *url.URL) (*Document, time.Duration, *Error) {
	body, header, err := f.get(ctx, clientID, u.Host, "client metadata document")
	if err != nil {
		return nil, 0, err
	}
	doc, perr := parseDocument(clientID, body)
	if perr != nil {
		return nil, 0, perr
	}
	return doc, cacheTTL(header, f.now()), nil
}

// get is one guarded GET of rawURL: the dialer's address guard, no proxy, no redirect, 200 only,
// Options.Timeout end to end and at most Options.MaxBytes of body. what names the resource in
// error reasons.
func (f *Fetcher) get(ctx context.Context, rawURL, host, what string) ([]byte, http.Header, *Error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, failWith("the URL is not valid", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", f.userAgent)

	resp, err := f.client.Do(req)
	if err != nil {
		return nil, nil, transportError(host, what, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, nil, fail(fmt.Sprintf("%s answered with a redirect (HTTP %d); redirects are not followed", host, resp.StatusCode))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fail(fmt.Sprintf("%s answered with HTTP %d; the %s must be served with 200", host, resp.StatusCode, what))
	}
	tooLarge := fail(what + " is larger than " + strconv.FormatInt(f.maxBytes, 10) + " bytes")
	if resp.ContentLength > f.maxBytes {
		return nil, nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err == nil {
		// A body cut short by the deadline can read as a clean EOF; never parse a body read
		// after the deadline passed.
		err = ctx.Err()
	}
	if err != nil {
		return nil, nil, transportError(host, what, err)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, nil, tooLarge
	}
	return body, resp.Header, nil
}

// FetchKeySet GETs a client's JWK Set from its jwks_uri (RFC 7591 §2; a metadata document's or a
// pre-registered client's) with the same guarded client as metadata documents: https only, the
// address guard in the dialer, no proxy, no redirect, 200 only, Options.Timeout and
// Options.MaxBytes. It returns the body, which the caller parses; nothing is cached here. Every
// error is an *Error whose Reason is safe to show the client.
func (f *Fetcher) FetchKeySet(ctx context.Context, jwksURI string) ([]byte, error) {
	u, err := url.Parse(jwksURI)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" ||
		len(jwksURI) > MaxClientIDLength || u.String() != jwksURI {
		return nil, fail("jwks_uri must be an absolute https URL without userinfo or fragment")
	}
	if err := ctx.Err(); err != nil {
		return nil, failWith("the request was cancelled before the key set was fetched", err)
	}
	body, _, ferr := f.get(ctx, jwksURI, u.Host, "key set")
	if ferr != nil {
		return nil, ferr
	}
	return body, nil
}

// transportError turns a failure to get a response (or its body) into an *Error whose reason
// names only the host.
func transportError(host, what string, err error) *Error {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unkCA   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		alert   tls.AlertError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, errBlockedAddress):
		return failWith(host+" resolves to a non-public address; refusing to connect", err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return failWith("timed out fetching the "+what+" from "+host, err)
	case errors.As(err, &dnsErr):
		return failWith("could not resolve "+host, err)
	case errors.As(err, &certErr), errors.As(err, &unkCA), errors.As(err, &hostErr),
		errors.As(err, &alert), errors.As(err, &recErr):
		return failWith("TLS connection to "+host+" failed", err)
	default:
		return failWith("could not fetch the "+what+" from "+host, err)
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

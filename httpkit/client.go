package httpkit

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// ClientOf describes the caller of r: its address as ClientIP reports it, and its user agent.
func ClientOf(r *http.Request, trusted []netip.Prefix) gatehouse.Client {
	return gatehouse.Client{IP: ClientIP(r, trusted), UserAgent: r.UserAgent()}
}

// ClientIP is the peer address, or, when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not itself a trusted proxy: the left part of that header is whatever
// the client chose to write.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap()
	if !isTrusted(addr, trusted) {
		return addr.String()
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(h, ",") {
			if part = strings.Trim(part, " \t"); part != "" {
				hops = append(hops, part)
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RateLimits are the per-IP rules the HTTP edges enforce before a handler runs. The per-account
// rules live in the domain, which knows the account.
type RateLimits struct {
	Limiter      *gatehouse.RateLimiter
	LoginIP      gatehouse.RateRule
	Register     gatehouse.RateRule
	ForgotIP     gatehouse.RateRule
	ResetIP      gatehouse.RateRule
	ResendIP     gatehouse.RateRule
	OAuthIP      gatehouse.RateRule
	KeyFailureIP gatehouse.RateRule
	// ClientRegisterIP limits dynamic client registrations; ClientAuthFailureIP failed client
	// authentications at the authorization server's endpoints.
	ClientRegisterIP    gatehouse.RateRule
	ClientAuthFailureIP gatehouse.RateRule
	// DeviceAuthorizationIP limits device authorization requests (RFC 8628); DeviceCodeIP and
	// DeviceCodeUser the wrong user codes entered on /device, per address and per signed-in user.
	DeviceAuthorizationIP gatehouse.RateRule
	DeviceCodeIP          gatehouse.RateRule
	DeviceCodeUser        gatehouse.RateRule
	// EmailSignInIP limits the sign-in emails asked for per address; EmailCodeIP the codes and
	// links tried.
	EmailSignInIP gatehouse.RateRule
	EmailCodeIP   gatehouse.RateRule
}

// TakeIP counts one event of the client at ip (as ClientIP reports it) against rule, or refuses
// with a KindRateLimited error. Every per-IP rule of every edge is counted here, so that a client
// is one subject on the API and on the dashboard alike.
func (l RateLimits) TakeIP(ctx context.Context, rule gatehouse.RateRule, ip string) error {
	_, err := l.Limiter.Take(ctx, rule, RateSubject(ip))
	return err
}

// RateSubject is the address a per-IP rule counts: an IPv4 address as it is, an IPv6 address by
// its /64, since one subscriber usually holds a whole /64 and could otherwise rotate through it.
func RateSubject(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// rateRules are the limits GATEHOUSE_RATE_LIMITS tunes, by name.
type rateRules map[string]gatehouse.RateRule

// defaultRateRules are on unless GATEHOUSE_RATE_LIMITS=off. The account rule is the contract's:
// at most 10 failed logins per account per 15 minutes.
func defaultRateRules() rateRules {
	rule := func(name string, limit int, window time.Duration) gatehouse.RateRule {
		return gatehouse.RateRule{Name: name, Limit: limit, Window: window}
	}
	return rateRules{
		"login_account":  rule("login_account", 10, 15*time.Minute),
		"login_ip":       rule("login_ip", 100, 15*time.Minute),
		"register_ip":    rule("register_ip", 20, time.Hour),
		"forgot_ip":      rule("forgot_ip", 20, time.Hour),
		"forgot_email":   rule("forgot_email", 5, 24*time.Hour),
		"notice_email":   rule("notice_email", 5, 24*time.Hour),
		"reset_ip":       rule("reset_ip", 20, time.Hour),
		"resend_ip":      rule("resend_ip", 20, time.Hour),
		"resend_email":   rule("resend_email", 5, 24*time.Hour),
		"oauth_ip":       rule("oauth_ip", 60, 15*time.Minute),
		"key_failure_ip": rule("key_failure_ip", 50, 15*time.Minute),
		// Dynamic client registration (RFC 7591) is open to anyone: each MCP client registers
		// once per server, so a few dozen an hour per address is generous.
		"client_register_ip": rule("client_register_ip", 30, time.Hour),
		// Failed client authentications at the token, revocation and introspection endpoints.
		"client_auth_failure_ip": rule("client_auth_failure_ip", 50, 15*time.Minute),
		// Device authorization (RFC 8628): codes asked for per address, and wrong user codes
		// entered on /device per address and per signed-in user (a code is 8 letters from 20:
		// a few guesses an hour leave an attacker no chance before it expires).
		"device_authorization_ip": rule("device_authorization_ip", 60, 15*time.Minute),
		"device_code_ip":          rule("device_code_ip", 20, 15*time.Minute),
		"device_code_user":        rule("device_code_user", 10, 15*time.Minute),
		// Wrong second-factor codes per user and factor (TOTP, recovery codes): a 6-digit code
		// has a million values, so 5 guesses per 5 minutes leave an attacker no real chance.
		"mfa_totp_user":     rule("mfa_totp_user", 5, 5*time.Minute),
		"mfa_recovery_user": rule("mfa_recovery_user", 5, 5*time.Minute),
		// Passwordless sign-in by email: emails asked for per client address and per address
		// (counted whether or not it has an account), and codes or links tried per client
		// address (each code also dies after 5 wrong tries).
		"email_signin_ip":    rule("email_signin_ip", 20, time.Hour),
		"email_signin_email": rule("email_signin_email", 5, time.Hour),
		"email_code_ip":      rule("email_code_ip", 30, 15*time.Minute),
		// Failed passkey assertions of the second step of a sign-in, per user.
		"mfa_webauthn_user": rule("mfa_webauthn_user", 5, 5*time.Minute),
	}
}

// parseRateLimits reads GATEHOUSE_RATE_LIMITS: "on" (the defaults), "off", or comma-separated
// overrides of the defaults such as "login_ip=200/15m,register_ip=off".
func parseRateLimits(value string) (enabled bool, rules rateRules, err error) {
	rules = defaultRateRules()
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "on":
		return true, rules, nil
	case "off":
		return false, rules, nil
	}
	for _, part := range strings.Split(value, ",") {
		name, spec, ok := strings.Cut(strings.TrimSpace(part), "=")
		r, known := rules[name]
		if !ok || !known {
			return false, nil, fmt.Errorf("unknown rule %q (rules: %s)", name, strings.Join(rules.names(), ", "))
		}
		if spec == "off" {
			r.Limit = 0
			rules[name] = r
			continue
		}
		n, window, ok := strings.Cut(spec, "/")
		limit, nerr := strconv.Atoi(n)
		d, derr := time.ParseDuration(window)
		if !ok || nerr != nil || derr != nil || limit < 1 || d < time.Second {
			return false, nil, fmt.Errorf("rule %s: want N/duration such as 10/15m, or off", name)
		}
		r.Limit, r.Window = limit, d
		rules[name] = r
	}
	return true, rules, nil
}

func (r rateRules) names() []string {
	var out []string
	for k := range r {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// longestWindow bounds how long rate events must be kept.
func (r rateRules) longestWindow() time.Duration {
	var max time.Duration
	for _, rule := range r {
		if rule.Window > max {
			max = rule.Window
		}
	}
	return max
}

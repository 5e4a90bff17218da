package cimd

import (
	"strings"
	"testing"
)

func TestIsClientIDURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://app.example.com/client.json": true,
		"https://":                            true, // looks like one; Fetch refuses it
		"http://app.example.com/client.json":  false,
		"HTTPS://app.example.com/client.json": false,
		"s6BhdRkqt3":                          false,
		"":                                    false,
	} {
		if got := IsClientIDURL(s); got != want {
			t.Errorf("IsClientIDURL(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestClientIDAccepted(t *testing.T) {
	for _, s := range []string{
		"https://app.example.com/client.json",
		"https://app.example.com/oauth/client-metadata.json",
		"https://app.example.com:8443/client",
		"https://app.example.com:443/client", // a port MAY be present; it is part of the string
		"https://[2001:db8::1]/client",
		"https://app.example.com/a%2Fb", // an encoded slash is kept as written
		"https://app.example.com/client/",
		"https://app.example.com/...", // three dots is an ordinary segment
	} {
		if _, err := parseClientID(s); err != nil {
			t.Errorf("parseClientID(%q) = %v, want accepted", s, err)
		}
	}
}

func TestClientIDRefused(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"http://app.example.com/client.json", "must be an https URL"},
		{"HTTPS://app.example.com/client.json", "must be an https URL"},
		{"ftp://app.example.com/client.json", "must be an https URL"},
		{"app.example.com/client.json", "must be an https URL"},
		{"https://app.example.com", "path component"},
		{"https://app.example.com/", "path component"},
		{"https://app.example.com/client.json#frag", "fragment"},
		{"https://app.example.com/client.json#", "fragment"},
		{"https://user@app.example.com/client.json", "username or password"},
		{"https://user:pw@app.example.com/client.json", "username or password"},
		{"https://@app.example.com/client.json", "username or password"},
		{"https://app.example.com/client.json?v=1", "query string"},
		{"https://app.example.com/client.json?", "query string"},
		{"https://app.example.com/./client.json", "path segments"},
		{"https://app.example.com/a/../client.json", "path segments"},
		{"https://app.example.com/a/..", "path segments"},
		{"https://app.example.com/a/.", "path segments"},
		{"https://app.example.com/a/%2e%2E/client.json", "path segments"},
		{"https://app.example.com/a/%2e/client.json", "path segments"},
		{"https://app.example.com/a%2F..%2Fb", "path segments"},
		{"https:///client.json", "must name a host"},
		{"https://:443/client.json", "must name a host"},
		{"https://app.example.com/a b", "canonical"},
		{"https://app.example.com/caf\u00e9", "canonical"},
		{"https://app.example.com/a\x7f", "not a valid URL"},
		{"https://app.example.com/" + strings.Repeat("a", MaxClientIDLength), "too long"},
	} {
		_, err := parseClientID(c.id)
		if err == nil {
			t.Errorf("parseClientID(%q) accepted, want refusal containing %q", c.id, c.want)
			continue
		}
		if !strings.Contains(err.Reason, c.want) {
			t.Errorf("parseClientID(%q) = %q, want it to contain %q", c.id, err.Reason, c.want)
		}
	}
}

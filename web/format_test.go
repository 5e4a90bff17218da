package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestDeviceNamesCommonUserAgents(t *testing.T) {
	cases := map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36":               "Chrome on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":        "Safari on macOS",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0":                                                    "Firefox on Linux",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/604.1": "Safari on iPhone",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 EdgA/126 Edg/126": "Edge on Android",
		"curl/8.5.0":         "curl",
		"Go-http-client/1.1": "Go HTTP client",
		"":                   "Unknown device",
	}
	for ua, want := range cases {
		if got := device(ua); got != want {
			t.Errorf("device(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestFormatNumberAndInitials(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := formatNumber(n); got != want {
			t.Errorf("formatNumber(%d) = %q, want %q", n, got, want)
		}
	}
	for _, c := range []struct{ name, email, want string }{
		{"Ada Lovelace", "ada@example.com", "AL"}, {"", "bob@example.com", "B"}, {"émile zola durand", "", "ÉZ"}, {"  ", "x@y.z", "X"},
	} {
		if got := initials(&gatehouse.User{Name: c.name, Email: c.email}); got != c.want {
			t.Errorf("initials(%q, %q) = %q, want %q", c.name, c.email, got, c.want)
		}
	}
}

func TestCountsInTheSingularForOne(t *testing.T) {
	for _, c := range []struct {
		n    int64
		noun string
		want string
	}{{0, "session", "0 sessions"}, {1, "session", "1 session"}, {2, "session", "2 sessions"}, {2000, "account", "2,000 accounts"},
		{1, "API key", "1 API key"}, {3, "API key", "3 API keys"}, {1, "use", "1 use"}, {1200, "use", "1,200 uses"}} {
		if got := countNoun(c.n, c.noun); got != c.want {
			t.Errorf("countNoun(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
	if got := countNoun(2, "person", "people"); got != "2 people" {
		t.Errorf("irregular plural: %q", got)
	}
	for d, want := range map[time.Duration]string{
		30 * time.Second: "in a minute", 90 * time.Second: "in about 2 minutes", time.Hour: "in about 1 hour",
		90 * time.Minute: "in about 2 hours", 24 * time.Hour: "in about 24 hours",
	} {
		if got := inAbout(d); got != want {
			t.Errorf("inAbout(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestCountsOnPages: the counts the pages show read right for one and for many.
func TestCountsOnPages(t *testing.T) {
	s := renderServer(t)
	v := &visit{p: &gatehouse.Principal{User: &gatehouse.User{ID: "u1", Email: "ada@example.com", Role: gatehouse.RoleAdmin, IsActive: true}, SessionID: "s1"}, csrf: "t"}
	now := time.Date(2026, 5, 14, 9, 30, 0, 0, time.UTC)
	page := func(name string, vw *view) string {
		rec := httptest.NewRecorder()
		s.render(rec, httptest.NewRequest("GET", "/x", nil), v, 200, name, vw)
		return rec.Body.String()
	}
	sessions := func(others int) string {
		d := sessionsData{Sessions: []sessionRow{{ID: "s1", Current: true, CreatedAt: now, LastUsedAt: now}}, Others: others}
		for i := range others {
			d.Sessions = append(d.Sessions, sessionRow{ID: "o" + string(rune('a'+i)), CreatedAt: now, LastUsedAt: now})
		}
		return page("sessions", &view{Nav: "sessions", Data: d})
	}
	keys := func(uses int64) string {
		d := keysPageData([]*gatehouse.APIKey{{ID: "k1", Name: "ci", Prefix: "ak_12345678", CreatedAt: now, LastUsedAt: &now, UseCount: uses}}, false, nil, 90, now)
		return page("keys", &view{Nav: "keys", Data: d, Form: map[string]string{}})
	}
	users := func(scanned int) string {
		return page("users", &view{Nav: "users", Form: map[string]string{}, Data: &usersData{Query: "x", Partial: true, Scanned: scanned, NextCursor: "c"}})
	}
	for _, c := range []struct {
		body      string
		want, not string
	}{
		{sessions(1), "Sign out the other session</button>", "other sessions"},
		{sessions(1), `data-confirm="Sign out the other session?"`, ""},
		{sessions(3), "Sign out all 3 other sessions</button>", ""},
		{keys(1), ">1 use<", "1 uses"},
		{keys(2500), ">2,500 uses<", ""},
		{users(1), "Searched 1 account so far.", "1 accounts"},
		{users(2000), "Searched 2,000 accounts so far.", ""},
	} {
		if !strings.Contains(c.body, c.want) {
			t.Errorf("the page lacks %q", c.want)
		}
		if c.not != "" && strings.Contains(c.body, c.not) {
			t.Errorf("the page says %q", c.not)
		}
	}
}

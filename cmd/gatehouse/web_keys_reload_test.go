package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// apiKeyCount is how many unrevoked keys the account has, as the API lists them.
func (s *testServer) apiKeyCount(t *testing.T, access string) int {
	t.Helper()
	r := s.do(t, "GET", "/api/v1/api-keys", nil, bearer(access))
	expectStatus(t, r, http.StatusOK)
	var keys []map[string]any
	if err := json.Unmarshal(r.Body, &keys); err != nil {
		t.Fatalf("key list: %v: %s", err, r.Body)
	}
	return len(keys)
}

// followPost is what a browser shows after a form post, and what its reload button asks again:
// the page that answered the post is posted again, a page reached by a redirect is fetched again.
func (b *webClient) followPost(path string, form url.Values) (posted, shown *response, reload func() *response) {
	b.t.Helper()
	posted = b.submit(path, cloneValues(form))
	if posted.Status != http.StatusSeeOther {
		return posted, posted, func() *response { return b.submit(path, cloneValues(form)) }
	}
	loc := posted.Header.Get("Location")
	return posted, b.get(loc), func() *response { return b.get(loc) }
}

// TestWebKeyCreationPostRedirectGet: "Create key" answers 303 to the keys page, which shows the
// new key once from a one-time slot; reloading it shows no secret and creates no second key. The
// secret is never in a URL or a cookie, and the slot is bound to the browser session that made it.
func TestWebKeyCreationPostRedirectGet(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	email := newWebEmail("prg")
	b.signUp(email, "correct horse battery staple")
	access, _ := s.login(t, email, "correct horse battery staple")

	form := url.Values{"action": {"create"}, "name": {"deploy bot"}, "scopes": {"profile:read"}, "expires_in_days": {"30"}}
	posted, shown, reload := b.followPost("/account/keys", form)
	key := newKeyInput.FindSubmatch(shown.Body)
	if key == nil {
		t.Fatalf("no new key on the page after creating one: %d %s", shown.Status, shown.Body)
	}
	secret := string(key[1])
	again := reload()
	if n := s.apiKeyCount(t, access); n != 1 {
		t.Fatalf("after a reload the account has %d keys, want 1", n)
	}
	if strings.Contains(string(again.Body), secret) || strings.Contains(string(again.Body), `id="new-key"`) {
		t.Fatal("the reloaded page shows the key again")
	}
	expectPage(t, again, http.StatusOK, "deploy bot")

	// The post itself: a 303 to the plain keys page, no secret in the answer, its Location or a cookie.
	expectRedirect(t, posted, "/account/keys")
	if strings.Contains(string(posted.Body), secret) {
		t.Fatal("the answer to the post carries the key")
	}
	for _, c := range setCookies(posted) {
		if strings.Contains(c.Value, secret) || strings.Contains(c.Value, secret[3:]) {
			t.Fatalf("cookie %s carries the key", c.Name)
		}
	}
	expectPage(t, shown, http.StatusOK, "this is the only time it is shown")
	if shown.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with a new key may be cached")
	}

	// The slot's cookie holds an id and nothing else, is HttpOnly, and is cleared on display; sent
	// again, it shows nothing.
	posted = b.submit("/account/keys", cloneValues(form))
	expectRedirect(t, posted, "/account/keys")
	slot := setCookies(posted)["gatehouse_new_key"]
	if slot == nil || !slot.HttpOnly || slot.MaxAge <= 0 || slot.MaxAge > 600 || slot.Value == "" {
		t.Fatalf("new-key cookie %+v", slot)
	}
	// Another browser, signed in as someone else, cannot open the slot with the id.
	thief := s.webClient(t)
	thief.signUp(newWebEmail("thief"), "correct horse battery staple")
	u, _ := url.Parse(s.URL)
	thief.jar.SetCookies(u, []*http.Cookie{{Name: slot.Name, Value: slot.Value, Path: "/"}})
	stolen := thief.get("/account/keys")
	if newKeyInput.Match(stolen.Body) {
		t.Fatal("another session opened the slot")
	}
	// So the owner still sees it, once.
	first := b.get("/account/keys")
	if !newKeyInput.Match(first.Body) {
		t.Fatalf("the owner does not see the new key: %s", first.Body)
	}
	if c := setCookies(first)["gatehouse_new_key"]; c == nil || c.MaxAge >= 0 {
		t.Fatalf("the slot's cookie is not cleared on display: %+v", c)
	}
	b.jar.SetCookies(u, []*http.Cookie{{Name: slot.Name, Value: slot.Value, Path: "/"}})
	replay := b.get("/account/keys")
	expectPage(t, replay, http.StatusOK, "can no longer be shown")
	if newKeyInput.Match(replay.Body) {
		t.Fatal("the slot shows the key a second time")
	}
	if n := s.apiKeyCount(t, access); n != 2 {
		t.Fatalf("the account has %d keys, want 2", n)
	}
	// Neither the key nor the slot's id is in the log, at debug level.
	if logs := s.logs.String(); strings.Contains(logs, secret[3:]) || strings.Contains(logs, slot.Value) {
		t.Fatal("the log holds the new key or its slot id")
	}

	// Signing out before the page is seen drops the waiting key and its cookie.
	expectRedirect(t, b.submit("/account/keys", cloneValues(form)), "/account/keys")
	out := b.submit("/logout", url.Values{})
	expectRedirect(t, out, "/login?notice=signed_out")
	if c := setCookies(out)["gatehouse_new_key"]; c == nil || c.MaxAge >= 0 {
		t.Fatalf("sign-out leaves the new-key cookie: %+v", c)
	}
	b.signIn(email, "correct horse battery staple")
	if after := b.get("/account/keys"); newKeyInput.Match(after.Body) {
		t.Fatal("a key made before sign-out is shown after it")
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

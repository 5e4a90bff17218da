package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// Helpers for the device authorization tests (RFC 8628): the device's side over the API, the
// user's side on /device with a cookie jar.

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// deviceStart asks /oauth2/device_authorization for a code; extra are "name=value" pairs.
func (s *testServer) deviceStart(t *testing.T, clientID string, extra ...string) (deviceCode, userCode string) {
	t.Helper()
	r := s.deviceRequest(t, clientID, extra...)
	expectStatus(t, r, http.StatusOK)
	m := r.json(t)
	deviceCode, _ = m["device_code"].(string)
	userCode, _ = m["user_code"].(string)
	if deviceCode == "" || !userCodeShape.MatchString(userCode) {
		t.Fatalf("device authorization: %s", r.Body)
	}
	return deviceCode, userCode
}

func (s *testServer) deviceRequest(t *testing.T, clientID string, extra ...string) *response {
	t.Helper()
	form := url.Values{"client_id": {clientID}}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		form.Add(k, v)
	}
	return s.o2Form(t, "/oauth2/device_authorization", form)
}

// devicePoll polls the token endpoint once.
func (s *testServer) devicePoll(t *testing.T, clientID, deviceCode string, extra ...string) *response {
	t.Helper()
	form := url.Values{"grant_type": {gatehouse.GrantDeviceCode}, "device_code": {deviceCode}, "client_id": {clientID}}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		form.Add(k, v)
	}
	return s.o2Form(t, "/oauth2/token", form)
}

// openDevicePage enters the code on /device as the user does (the form, then the redirect to
// the approval page) and returns the approval page, checked: a form with the decision buttons,
// not frameable, not cached.
func (b *webClient) openDevicePage(code string, texts ...string) *response {
	b.t.Helper()
	expectPage(b.t, b.get("/device?"+url.Values{"user_code": {code}}.Encode()), http.StatusOK, `action="/device"`, `value="`+code+`"`)
	r := b.submit("/device", url.Values{"user_code": {code}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/device/approve?user_code=") {
		b.t.Fatalf("entering the code: status %d to %q; body: %.600s", r.Status, r.Header.Get("Location"), r.Body)
	}
	page := b.get(r.Header.Get("Location"))
	expectPage(b.t, page, http.StatusOK, append([]string{`action="/device/approve"`, `name="decision" value="allow"`, `name="decision" value="deny"`}, texts...)...)
	if page.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(page.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		b.t.Fatalf("the device approval page can be framed: %v", page.Header)
	}
	if page.Header.Get("Cache-Control") != "no-store" {
		b.t.Fatalf("the device approval page is cached: %v", page.Header)
	}
	return page
}

// decideDevice approves ("allow") or denies ("deny") the code on its approval page.
func (b *webClient) decideDevice(code, decision string, texts ...string) {
	b.t.Helper()
	b.openDevicePage(code, texts...)
	r := b.submit("/device/approve", url.Values{"user_code": {code}, "decision": {decision}})
	want := "/device/done?result=approved"
	if decision == "deny" {
		want = "/device/done?result=denied"
	}
	expectRedirect(b.t, r, want)
	expectPage(b.t, b.get(want), http.StatusOK)
}

// signedInBrowser is a browser of a new account, signed in on the dashboard.
func (s *testServer) signedInBrowser(t *testing.T) (*webClient, *account) {
	t.Helper()
	a := s.register(t)
	b := s.webClient(t)
	b.signIn(a.Email, a.Password)
	return b, a
}

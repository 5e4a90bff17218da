package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)

// TestWebAPIReference: the footer's "API reference" is a page of the dashboard, rendered from the
// document at /openapi.json, signed in or not, under the dashboard's CSP with no inline script.
func TestWebAPIReference(t *testing.T) {
	s := startServer(t)
	b := s.webClient(t)
	login := b.get("/login")
	expectPage(t, login, http.StatusOK, `<a href="/api-reference">API reference</a>`)

	r := b.get("/api-reference")
	expectPage(t, r, http.StatusOK, "<h1>API reference</h1>", `<a href="/openapi.json">OpenAPI document</a>`)
	if got := r.Header.Get("Content-Security-Policy"); got != dashboardCSP {
		t.Fatalf("CSP %q", got)
	}
	body := string(r.Body)
	for _, path := range []string{"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/users/me/sessions/{id}", "/api/v1/public/credits/balance", "/.well-known/jwks.json"} {
		if !strings.Contains(body, `<code class="api-path">`+path+`</code>`) {
			t.Errorf("the reference does not list %s", path)
		}
	}
	for _, text := range []string{"Sign in with email and password", `<code class="strong">password</code>`, `<code class="strong">429</code>`,
		"API key (header X-API-Key) with scope keys:write", `id="schema-TokenResponse"`} {
		if !strings.Contains(body, text) {
			t.Errorf("the reference lacks %s", text)
		}
	}
	scripts := scriptTag.FindAllStringSubmatch(body, -1)
	if len(scripts) == 0 {
		t.Fatal("no script element at all: the test is reading the wrong page")
	}
	for _, m := range scripts {
		if !strings.Contains(m[1], `src="/static/`) || strings.TrimSpace(m[2]) != "" {
			t.Fatalf("inline script %q", m[0])
		}
	}
	if strings.Contains(body, " style=") || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) || strings.Contains(body, "//cdn") {
		t.Fatal("inline style, event handler or CDN on the reference")
	}

	// Every operation the document describes is on the page.
	doc := s.do(t, "GET", "/openapi.json", nil)
	expectStatus(t, doc, http.StatusOK)
	paths, _ := doc.json(t)["paths"].(map[string]any)
	ops := 0
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			ops++
			if !strings.Contains(body, `<span class="method method-`+method+`">`+strings.ToUpper(method)+`</span> <code class="api-path">`+path+`</code>`) {
				t.Errorf("%s %s is not on the page", strings.ToUpper(method), path)
			}
		}
	}
	if ops < 70 {
		t.Fatalf("only %d operations in the document", ops)
	}

	// Signed in, the same page, inside the account's frame.
	b.signUp(newWebEmail("apiref"), "correct horse battery staple")
	expectPage(t, b.get("/api-reference"), http.StatusOK, `class="sidenav"`, `<a href="/api-reference" aria-current="page">API reference</a>`, "/api/v1/auth/login")
}

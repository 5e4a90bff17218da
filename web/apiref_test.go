package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

var hrefAnchor = regexp.MustCompile(`href="#([^"]+)"`)

// apiDocument is the document the binary serves at /openapi.json, read from its source: the web
// package does not import the API's.
func apiDocument(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("../httpapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestAPIReferenceReadsTheDocument(t *testing.T) {
	ref, err := parseAPIReference(apiDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	if ref.Title != "Gatehouse" || ref.Version == "" || ref.Operations < 70 || len(ref.Schemas) < 20 {
		t.Fatalf("title %q version %q, %d operations, %d schemas", ref.Title, ref.Version, ref.Operations, len(ref.Schemas))
	}
	var login, revoke, create *apiOperation
	for _, g := range ref.Groups {
		for i, o := range g.Ops {
			switch {
			case o.Method == "POST" && o.Path == "/api/v1/auth/login":
				login = &g.Ops[i]
			case o.Method == "DELETE" && o.Path == "/api/v1/users/me/sessions/{id}":
				revoke = &g.Ops[i]
			case o.Method == "POST" && o.Path == "/api/v1/api-keys":
				create = &g.Ops[i]
			}
		}
	}
	if login == nil || revoke == nil || create == nil {
		t.Fatal("known operations are missing")
	}
	if login.SameAs != nil || create.SameAs != nil {
		t.Fatal("an operation is shown as a copy of another")
	}
	for _, g := range ref.Groups {
		for _, o := range g.Ops {
			if o.Path == "/v1/public/auth/login" && (o.SameAs == nil || o.SameAs.Path != "/api/v1/auth/login") {
				t.Fatalf("the login alias is not linked to login: %+v", o.SameAs)
			}
		}
	}
	if login.Summary != "Sign in with email and password" || len(login.Auth) != 0 || login.Body == nil {
		t.Fatalf("login: %+v", login)
	}
	if got := login.Body.ContentTypes; len(got) != 2 || got[0] != "application/json" {
		t.Fatalf("login content types %v", got)
	}
	if names := fieldNames(login.Body.Fields); names != "email username password org_id" {
		t.Fatalf("login fields %q", names)
	}
	if login.Responses[0].Status != "200" || login.Responses[0].Type.Ref != "TokenResponse" || !strings.Contains(string(login.Responses[0].Description), "tokens") {
		t.Fatalf("login responses %+v", login.Responses[0])
	}
	if len(revoke.Params) != 1 || revoke.Params[0].Name != "id" || revoke.Params[0].In != "path" || !revoke.Params[0].Required {
		t.Fatalf("path parameters %+v", revoke.Params)
	}
	if len(create.Auth) != 2 || create.Auth[0] != "Bearer token" || create.Auth[1] != "API key (header X-API-Key) with scope keys:write" {
		t.Fatalf("create key auth %q", create.Auth)
	}
	for _, f := range create.Body.Fields {
		if f.Name == "scopes" && (f.Type.String() != "array of Scope" || !strings.Contains(f.Rules, "default [profile:read, credits:read]")) {
			t.Fatalf("scopes field %+v", f)
		}
		if f.Name == "expires_in_days" && f.Rules != "from 0 to 3650; default 90" {
			t.Fatalf("expires_in_days rules %q", f.Rules)
		}
	}
}

func fieldNames(fs []apiField) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return strings.Join(out, " ")
}

func TestAPIReferenceRefusesWhatIsNotADocument(t *testing.T) {
	for _, doc := range []string{"", "{", `{"openapi":"2.0","paths":{"/x":{}}}`, `{"openapi":"3.1.0","paths":{}}`, `[1]`, `{"openapi":"3.1.0","paths":{"/a":{}}} x`} {
		if _, err := parseAPIReference([]byte(doc)); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

func TestRichTextEscapes(t *testing.T) {
	got := string(richText("Send `<b>` **now**.\n\nThen <i>wait</i> & see"))
	want := "<p>Send <code>&lt;b&gt;</code> <strong>now</strong>.</p><p>Then &lt;i&gt;wait&lt;/i&gt; &amp; see</p>"
	if got != want {
		t.Fatalf("richText = %s", got)
	}
}

func TestAPIReferencePage(t *testing.T) {
	s := renderServer(t)
	ref, err := parseAPIReference(apiDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	s.apiRef = parsedAPIRef(ref)
	rec := httptest.NewRecorder()
	s.apiReferencePage(rec, httptest.NewRequest("GET", "/api-reference", nil), &visit{csrf: "t"})
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{`<main id="main" tabindex="-1" class="wide">`, `id="op-login"`, `<code class="api-path">/api/v1/auth/login</code>`,
		`<code class="api-path">/api/v1/users/me/sessions/{id}</code>`, `href="#schema-TokenResponse"`, `id="schema-TokenResponse"`,
		"Sign in with email and password", `<a href="/api-reference" aria-current="page">API reference</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
		t.Error("inline code on the API reference")
	}
	// Every link into the page lands on an element of the page.
	for _, m := range hrefAnchor.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(body, `id="`+m[1]+`"`) {
			t.Errorf("a link to #%s goes nowhere", m[1])
		}
	}
	rec = httptest.NewRecorder()
	s.apiRef = nil
	s.apiReferencePage(rec, httptest.NewRequest("GET", "/api-reference", nil), &visit{csrf: "t"})
	if rec.Code != http.StatusNotFound {
		t.Fatalf("without a document: %d", rec.Code)
	}
	// The document is parsed on the page's first request; one that does not parse is an error
	// page, not a crash.
	s.apiRef = &apiRefLoader{doc: []byte(`{"openapi": 3`)}
	for range 2 {
		rec = httptest.NewRecorder()
		s.apiReferencePage(rec, httptest.NewRequest("GET", "/api-reference", nil), &visit{csrf: "t"})
		if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "</html>") {
			t.Fatalf("with a broken document: %d", rec.Code)
		}
	}
	s.apiRef = &apiRefLoader{doc: apiDocument(t)}
	rec = httptest.NewRecorder()
	s.apiReferencePage(rec, httptest.NewRequest("GET", "/api-reference", nil), &visit{csrf: "t"})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="op-login"`) {
		t.Fatalf("parsed on first use: %d", rec.Code)
	}
}

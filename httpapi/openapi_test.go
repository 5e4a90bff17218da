package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// parseOpenAPI decodes the embedded document into generic JSON values.
func parseOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// resolveOpenAPIRef follows a local reference ("#/components/...") inside doc.
func resolveOpenAPIRef(doc map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q is not a local reference", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside an object", ref, tok)
		}
		if cur, ok = obj[tok]; !ok {
			return nil, fmt.Errorf("$ref %q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// documentedOperation is one operation of the document, after resolving path item references.
type documentedOperation struct {
	method, path string
	where        string // JSON pointer of the operation's definition
	op           map[string]any
	pathItem     map[string]any
}

// documentedOperations lists every (method, path) of the document's paths, following a path
// item's $ref (to components.pathItems) as OpenAPI 3.1 allows.
func documentedOperations(t *testing.T, doc map[string]any) []documentedOperation {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal(`openapi.json has no "paths" object`)
	}
	var ops []documentedOperation
	for path, raw := range paths {
		item, ok := raw.(map[string]any)
		if !ok {
			t.Errorf("paths[%q] is not an object", path)
			continue
		}
		where := "#/paths/" + strings.ReplaceAll(strings.ReplaceAll(path, "~", "~0"), "/", "~1")
		for seen := 0; ; seen++ {
			ref, isRef := item["$ref"].(string)
			if !isRef {
				break
			}
			if seen > 8 {
				t.Errorf("paths[%q]: $ref chain too long", path)
				break
			}
			target, err := resolveOpenAPIRef(doc, ref)
			if err != nil {
				t.Errorf("paths[%q]: %v", path, err)
				break
			}
			if item, ok = target.(map[string]any); !ok {
				t.Errorf("paths[%q]: $ref %q is not a path item object", path, ref)
				break
			}
			where = ref
		}
		for _, m := range openAPIMethods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			op, ok := raw.(map[string]any)
			if !ok {
				t.Errorf("%s %s: operation is not an object", strings.ToUpper(m), path)
				continue
			}
			ops = append(ops, documentedOperation{
				method: strings.ToUpper(m), path: path, where: where + "/" + m, op: op, pathItem: item,
			})
		}
	}
	return ops
}

var (
	// muxWildcard matches a Go ServeMux wildcard, "{name}" or "{name...}".
	muxWildcard = regexp.MustCompile(`\{([^{}.$]+)(?:\.\.\.)?\}`)
	// openAPITemplateVar matches a variable of an OpenAPI path template.
	openAPITemplateVar = regexp.MustCompile(`\{([^{}]+)\}`)
)

// openAPIPath writes a ServeMux pattern path as an OpenAPI path template.
func openAPIPath(pattern string) string {
	pattern = strings.TrimSuffix(pattern, "{$}")
	return muxWildcard.ReplaceAllString(pattern, "{$1}")
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc := parseOpenAPI(t)
	if v := doc["openapi"]; v != "3.1.0" {
		t.Errorf(`"openapi" = %v, want "3.1.0"`, v)
	}

	served := map[string]bool{}
	for _, rt := range Routes() {
		served[rt.Method+" "+openAPIPath(rt.Path)] = true
	}
	documented := map[string]bool{}
	for _, o := range documentedOperations(t, doc) {
		documented[o.method+" "+o.path] = true
	}

	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from httpapi/openapi.json (%d):\n\t%s", len(missing), strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("httpapi/openapi.json documents operations the router does not serve (%d):\n\t%s", len(extra), strings.Join(extra, "\n\t"))
	}
}

// TestOpenAPIOperations checks what every operation must carry: a unique operationId, a summary,
// a security requirement naming known schemes, at least one response, and a parameter for each
// path template variable.
func TestOpenAPIOperations(t *testing.T) {
	doc := parseOpenAPI(t)
	components, _ := doc["components"].(map[string]any)
	schemes, _ := components["securitySchemes"].(map[string]any)

	ops := documentedOperations(t, doc)
	slices.SortFunc(ops, func(a, b documentedOperation) int {
		return strings.Compare(a.path+" "+a.method, b.path+" "+b.method)
	})
	usedBy := map[string]string{} // operationId -> the first operation that has it
	for _, o := range ops {
		name := o.method + " " + o.path

		// OpenAPI wants operationIds unique among all operations, and validators count an
		// operation shared through a path item $ref once per path: aliases need their own ids.
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", name)
		} else if prev, dup := usedBy[id]; dup {
			t.Errorf("%s: operationId %q is also used by %s (defined at %s)", name, id, prev, o.where)
		} else {
			usedBy[id] = name
		}
		if s, _ := o.op["summary"].(string); s == "" {
			t.Errorf("%s: no summary", name)
		}

		if responses, _ := o.op["responses"].(map[string]any); len(responses) == 0 {
			t.Errorf("%s: no responses", name)
		}

		if sec, ok := o.op["security"].([]any); !ok {
			t.Errorf("%s: no security requirement (use [] for a public endpoint)", name)
		} else {
			for _, req := range sec {
				r, _ := req.(map[string]any)
				for scheme := range r {
					if _, ok := schemes[scheme]; !ok {
						t.Errorf("%s: security scheme %q is not in components.securitySchemes", name, scheme)
					}
				}
			}
		}

		declared := map[string]bool{}
		for _, list := range []any{o.pathItem["parameters"], o.op["parameters"]} {
			params, _ := list.([]any)
			for _, p := range params {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					target, err := resolveOpenAPIRef(doc, ref)
					if err != nil {
						continue // reported by TestOpenAPIRefsResolve
					}
					pm, _ = target.(map[string]any)
				}
				if pm["in"] == "path" {
					n, _ := pm["name"].(string)
					declared[n] = true
				}
			}
		}
		for _, m := range openAPITemplateVar.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q is not declared", name, m[1])
			}
		}
	}
}

// TestOpenAPIRefsResolve walks the whole document and resolves every $ref.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := parseOpenAPI(t)
	count := 0
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				count++
				s, isString := ref.(string)
				if !isString {
					t.Errorf("%s: $ref is not a string", where)
				} else if _, err := resolveOpenAPIRef(doc, s); err != nil {
					t.Errorf("%s: %v", where, err)
				}
			}
			for k, child := range v {
				walk(where+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", where, i), child)
			}
		}
	}
	walk("#", doc)
	if count == 0 {
		t.Error("the document has no $ref at all; is the walk broken?")
	}
}

// TestOpenAPIIsIndented keeps the file pretty-printed with a 2-space indent, so diffs stay readable.
func TestOpenAPIIsIndented(t *testing.T) {
	var want bytes.Buffer
	if err := json.Indent(&want, bytes.TrimSpace(OpenAPIDocument()), "", "  "); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(OpenAPIDocument()), want.Bytes()) {
		t.Error("httpapi/openapi.json is not indented with 2 spaces (e.g. `jq . openapi.json` or json.Indent)")
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	// The handler serves the embedded document and touches no dependency, so empty Deps will do.
	srv := NewServer(Deps{})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)

	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: status %d, want 200; body %s", res.StatusCode, body)
	}
	if mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", res.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf(`"openapi" = %q, want "3.1.0"`, doc.OpenAPI)
	}
	if len(doc.Paths) == 0 {
		t.Error("served document has no paths")
	}
	if !bytes.Equal(body, OpenAPIDocument()) {
		t.Error("served body differs from OpenAPIDocument()")
	}
}

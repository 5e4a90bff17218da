package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The footer's "API reference" is a page rendered from the OpenAPI document that the binary serves
// at /openapi.json, handed to the dashboard as Deps.OpenAPI. It is parsed once, at start-up; a
// document it cannot read stops the start rather than leaving a broken page.

// apiReference is what the page shows.
type apiReference struct {
	Title, Version string
	Summary        template.HTML
	Description    template.HTML
	Groups         []apiGroup
	Schemas        []apiSchema
	Operations     int
}

// apiGroup is a tag's operations, in the document's order.
type apiGroup struct {
	Name, Anchor string
	Description  template.HTML
	Ops          []apiOperation
}

type apiOperation struct {
	Method, Path, Anchor string
	Summary              string
	Description          template.HTML
	Auth                 []string // alternatives; empty when none is needed
	Deprecated           bool
	Params               []apiParam
	Body                 *apiBody
	Responses            []apiResponse
	// SameAs is an earlier operation with exactly the same parameters, body, responses and
	// authentication (the auth routes' aliases): the page links to it rather than repeating it.
	SameAs *apiOperation
}

// sameContract reports whether o takes and answers exactly what e does.
func (o *apiOperation) sameContract(e *apiOperation) bool {
	return o.Method == e.Method && reflect.DeepEqual(o.Params, e.Params) && reflect.DeepEqual(o.Body, e.Body) &&
		reflect.DeepEqual(o.Responses, e.Responses) && slices.Equal(o.Auth, e.Auth)
}

// MethodClass is the CSS class of the method's badge.
func (o apiOperation) MethodClass() string { return "method-" + strings.ToLower(o.Method) }

type apiParam struct {
	Name, In    string
	Type        apiType
	Required    bool
	Description template.HTML
}

type apiBody struct {
	Required     bool
	Description  template.HTML
	ContentTypes []string
	Type         apiType    // the schema of the first content type
	Fields       []apiField // its properties, when it is an object
}

type apiResponse struct {
	Status      string
	Description template.HTML
	ContentType string
	Type        apiType // zero when the response has no body
}

type apiField struct {
	Name        string
	Type        apiType
	Required    bool
	Description template.HTML
	Rules       string // limits, allowed values, default
}

type apiSchema struct {
	Name, Anchor string
	Description  template.HTML
	Type         apiType
	Fields       []apiField
	Rules        string
}

// apiType names a schema: Prefix then either a link to a named schema (Ref) or Text, e.g.
// "array of " + APIKey, or "string (email)".
type apiType struct {
	Prefix, Ref, RefAnchor, Text string
}

func (t apiType) IsZero() bool { return t == apiType{} }

// parseAPIReference reads an OpenAPI 3 document.
func parseAPIReference(doc []byte) (*apiReference, error) {
	root, err := decodeOrdered(doc)
	if err != nil {
		return nil, fmt.Errorf("web: the OpenAPI document: %w", err)
	}
	d, ok := root.(*jobj)
	if !ok || !strings.HasPrefix(d.str("openapi"), "3.") {
		return nil, errors.New("web: the OpenAPI document is not OpenAPI 3")
	}
	paths := d.obj("paths")
	if paths == nil || len(paths.keys) == 0 {
		return nil, errors.New("web: the OpenAPI document has no paths")
	}
	p := &refParser{root: d}
	info := d.obj("info")
	ref := &apiReference{Title: info.str("title"), Version: info.str("version"),
		Summary: richText(info.str("summary")), Description: richText(info.str("description"))}

	groups := map[string]*apiGroup{}
	var order []string
	group := func(name string) *apiGroup {
		if g, ok := groups[name]; ok {
			return g
		}
		g := &apiGroup{Name: name, Anchor: anchor("tag", name)}
		groups[name] = g
		order = append(order, name)
		return g
	}
	for _, t := range d.arr("tags") {
		if to, ok := t.(*jobj); ok && to.str("name") != "" {
			group(to.str("name")).Description = richText(to.str("description"))
		}
	}
	used := map[string]bool{}
	var seen []*apiOperation
	for _, path := range paths.keys {
		item := p.resolve(paths.obj(path))
		if item == nil {
			continue
		}
		for _, method := range []string{"get", "put", "post", "patch", "delete", "head", "options", "trace"} {
			op := item.obj(method)
			if op == nil {
				continue
			}
			o := p.operation(path, method, item, op)
			base := o.Anchor
			for i := 2; used[o.Anchor]; i++ {
				o.Anchor = base + "-" + strconv.Itoa(i)
			}
			used[o.Anchor] = true
			for _, earlier := range seen {
				if o.sameContract(earlier) {
					o.SameAs = earlier
					break
				}
			}
			if o.SameAs == nil {
				seen = append(seen, &o)
			}
			tag := "other"
			if tags := op.arr("tags"); len(tags) > 0 {
				if s, ok := tags[0].(string); ok && s != "" {
					tag = s
				}
			}
			g := group(tag)
			g.Ops = append(g.Ops, o)
			ref.Operations++
		}
	}
	for _, name := range order {
		if g := groups[name]; len(g.Ops) > 0 {
			ref.Groups = append(ref.Groups, *g)
		}
	}
	if schemas := d.obj("components").obj("schemas"); schemas != nil {
		for _, name := range schemas.keys {
			s := p.resolve(schemas.obj(name))
			sc := apiSchema{Name: name, Anchor: anchor("schema", name), Description: richText(s.str("description")), Rules: rules(s)}
			if p.isObject(s) {
				sc.Fields = p.fields(s)
			} else {
				sc.Type = p.typeOf(schemas.obj(name))
			}
			ref.Schemas = append(ref.Schemas, sc)
		}
	}
	return ref, nil
}

type refParser struct {
	root *jobj
}

func (p *refParser) operation(path, method string, item, op *jobj) apiOperation {
	o := apiOperation{Method: strings.ToUpper(method), Path: path, Summary: op.str("summary"),
		Description: richText(op.str("description")), Deprecated: op.get("deprecated") == true}
	id := op.str("operationId")
	if id == "" {
		id = method + path
	}
	o.Anchor = anchor("op", id)

	// Path-level parameters apply unless the operation redefines one (same name and place).
	var params []*jobj
	for _, list := range [][]any{item.arr("parameters"), op.arr("parameters")} {
		for _, raw := range list {
			pr := p.resolve(asObj(raw))
			if pr == nil {
				continue
			}
			params = slices.DeleteFunc(params, func(q *jobj) bool { return q.str("name") == pr.str("name") && q.str("in") == pr.str("in") })
			params = append(params, pr)
		}
	}
	for _, pr := range params {
		o.Params = append(o.Params, apiParam{Name: pr.str("name"), In: pr.str("in"), Required: pr.get("required") == true,
			Type: p.typeOf(pr.obj("schema")), Description: richText(pr.str("description"))})
	}

	if rb := p.resolve(op.obj("requestBody")); rb != nil {
		b := &apiBody{Required: rb.get("required") == true, Description: richText(rb.str("description"))}
		content := rb.obj("content")
		for i, ct := range content.keysOrNil() {
			b.ContentTypes = append(b.ContentTypes, ct)
			if i == 0 {
				raw := content.obj(ct).obj("schema")
				b.Type = p.typeOf(raw)
				if s := p.resolve(raw); p.isObject(s) {
					b.Fields = p.fields(s)
				}
			}
		}
		o.Body = b
	}

	security := op.get("security")
	if security == nil {
		security = p.root.get("security")
	}
	if list, ok := security.([]any); ok {
		for _, req := range list {
			if alt := p.auth(asObj(req)); alt != "" {
				o.Auth = append(o.Auth, alt)
			}
		}
	}

	if rs := op.obj("responses"); rs != nil {
		statuses := slices.Clone(rs.keys)
		slices.SortStableFunc(statuses, func(a, b string) int { return strings.Compare(statusKey(a), statusKey(b)) })
		for _, status := range statuses {
			r := p.resolve(rs.obj(status))
			if r == nil {
				continue
			}
			resp := apiResponse{Status: status, Description: richText(r.str("description"))}
			if content := r.obj("content"); content != nil && len(content.keys) > 0 {
				resp.ContentType = content.keys[0]
				resp.Type = p.typeOf(content.obj(content.keys[0]).obj("schema"))
			}
			o.Responses = append(o.Responses, resp)
		}
	}
	return o
}

// statusKey sorts "2XX" with the 200s and "default" last.
func statusKey(s string) string {
	if s == "default" {
		return "9"
	}
	return s
}

// auth describes one security requirement: every scheme in it is needed together.
func (p *refParser) auth(req *jobj) string {
	if req == nil || len(req.keys) == 0 {
		return ""
	}
	var parts []string
	for _, name := range req.keys {
		scheme := p.root.obj("components").obj("securitySchemes").obj(name)
		label := name
		switch scheme.str("type") {
		case "http":
			if strings.EqualFold(scheme.str("scheme"), "bearer") {
				label = "Bearer token"
			} else {
				label = "HTTP " + scheme.str("scheme")
			}
		case "apiKey":
			label = "API key (" + scheme.str("in") + " " + scheme.str("name") + ")"
		case "oauth2", "openIdConnect":
			label = "OAuth 2.0"
		}
		var scopes []string
		for _, s := range req.arr(name) {
			if str, ok := s.(string); ok {
				scopes = append(scopes, str)
			}
		}
		if len(scopes) == 1 {
			label += " with scope " + scopes[0]
		} else if len(scopes) > 1 {
			label += " with scopes " + strings.Join(scopes, ", ")
		}
		parts = append(parts, label)
	}
	return strings.Join(parts, " and ")
}

// resolve follows local $refs ("#/components/...") to the object they name.
func (p *refParser) resolve(o *jobj) *jobj {
	for range 16 {
		if o == nil {
			return nil
		}
		ref := o.str("$ref")
		if ref == "" {
			return o
		}
		o = p.lookup(ref)
	}
	return nil
}

func (p *refParser) lookup(ref string) *jobj {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = p.root
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		o, ok := cur.(*jobj)
		if !ok {
			return nil
		}
		cur = o.get(part)
	}
	o, _ := cur.(*jobj)
	return o
}

func (p *refParser) isObject(s *jobj) bool {
	if s == nil {
		return false
	}
	if s.obj("properties") != nil || s.str("type") == "object" {
		return true
	}
	for _, part := range s.arr("allOf") {
		if p.isObject(p.resolve(asObj(part))) {
			return true
		}
	}
	return false
}

// fields lists an object schema's properties, those of each allOf part first.
func (p *refParser) fields(s *jobj) []apiField {
	var out []apiField
	for _, part := range s.arr("allOf") {
		for _, f := range p.fields(p.resolve(asObj(part))) {
			out = slices.DeleteFunc(out, func(g apiField) bool { return g.Name == f.Name })
			out = append(out, f)
		}
	}
	required := map[string]bool{}
	for _, r := range s.arr("required") {
		if name, ok := r.(string); ok {
			required[name] = true
		}
	}
	props := s.obj("properties")
	for _, name := range props.keysOrNil() {
		raw := props.obj(name)
		prop := p.resolve(raw)
		f := apiField{Name: name, Type: p.typeOf(raw), Required: required[name], Rules: rules(prop)}
		desc := raw.str("description")
		if desc == "" {
			desc = prop.str("description")
		}
		f.Description = richText(desc)
		out = slices.DeleteFunc(out, func(g apiField) bool { return g.Name == name })
		out = append(out, f)
	}
	return out
}

// typeOf names a schema's type; a $ref is a link to the named schema.
func (p *refParser) typeOf(s *jobj) apiType {
	if s == nil {
		return apiType{}
	}
	if ref := s.str("$ref"); ref != "" {
		if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
			return apiType{Ref: name, RefAnchor: anchor("schema", name)}
		}
		return p.typeOf(p.resolve(s))
	}
	for _, combo := range []struct{ key, word string }{{"oneOf", " or "}, {"anyOf", " or "}, {"allOf", " and "}} {
		if parts := s.arr(combo.key); len(parts) > 0 {
			if len(parts) == 1 {
				return p.typeOf(asObj(parts[0]))
			}
			var names []string
			for _, part := range parts {
				names = append(names, p.typeOf(asObj(part)).String())
			}
			return apiType{Text: strings.Join(names, combo.word)}
		}
	}
	var types []string
	switch t := s.get("type").(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if str, ok := x.(string); ok {
				types = append(types, str)
			}
		}
	}
	if slices.Contains(types, "array") {
		inner := p.typeOf(s.obj("items"))
		rest := slices.DeleteFunc(slices.Clone(types), func(x string) bool { return x == "array" })
		if inner.IsZero() {
			inner = apiType{Text: "any"}
		}
		t := apiType{Prefix: "array of " + inner.Prefix, Ref: inner.Ref, RefAnchor: inner.RefAnchor, Text: inner.Text}
		if len(rest) > 0 && t.Ref == "" {
			t.Text += " or " + strings.Join(rest, " or ")
		}
		return t
	}
	text := strings.Join(types, " or ")
	if text == "" {
		if s.obj("properties") != nil {
			text = "object"
		} else {
			text = "any"
		}
	}
	if f := s.str("format"); f != "" {
		text += " (" + f + ")"
	}
	return apiType{Text: text}
}

// String is the type in words, links left out.
func (t apiType) String() string {
	if t.Ref != "" {
		return t.Prefix + t.Ref
	}
	return t.Prefix + t.Text
}

// rules sums up a schema's limits, allowed values and default.
func rules(s *jobj) string {
	if s == nil {
		return ""
	}
	var out []string
	if vals := s.arr("enum"); len(vals) > 0 {
		var list []string
		for _, v := range vals {
			list = append(list, jsonText(v))
		}
		out = append(out, "one of "+strings.Join(list, ", "))
	}
	if c := s.get("const"); c != nil {
		out = append(out, "always "+jsonText(c))
	}
	minLen, maxLen := s.get("minLength"), s.get("maxLength")
	switch {
	case minLen != nil && maxLen != nil:
		out = append(out, jsonText(minLen)+" to "+jsonText(maxLen)+" characters")
	case maxLen != nil:
		out = append(out, "at most "+jsonText(maxLen)+" characters")
	case minLen != nil:
		out = append(out, "at least "+jsonText(minLen)+" characters")
	}
	minimum, maximum := s.get("minimum"), s.get("maximum")
	switch {
	case minimum != nil && maximum != nil:
		out = append(out, "from "+jsonText(minimum)+" to "+jsonText(maximum))
	case maximum != nil:
		out = append(out, "at most "+jsonText(maximum))
	case minimum != nil:
		out = append(out, "at least "+jsonText(minimum))
	}
	if pat := s.str("pattern"); pat != "" {
		out = append(out, "pattern "+pat)
	}
	if d := s.get("default"); d != nil {
		out = append(out, "default "+jsonText(d))
	}
	return strings.Join(out, "; ")
}

// jsonText writes a schema value as the document has it: strings bare, the rest as JSON.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case *jobj:
		return "{…}"
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, jsonText(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

var anchorUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func anchor(kind, name string) string {
	return kind + "-" + strings.Trim(anchorUnsafe.ReplaceAllString(name, "-"), "-")
}

var inlineMarkup = regexp.MustCompile("`([^`]+)`|\\*\\*([^*]+)\\*\\*")

// richText renders the little Markdown the document's descriptions use: paragraphs, `code` and
// **strong**. Everything else is escaped text.
func richText(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		last := 0
		for _, m := range inlineMarkup.FindAllStringSubmatchIndex(para, -1) {
			b.WriteString(html.EscapeString(para[last:m[0]]))
			if m[2] >= 0 {
				b.WriteString("<code>" + html.EscapeString(para[m[2]:m[3]]) + "</code>")
			} else {
				b.WriteString("<strong>" + html.EscapeString(para[m[4]:m[5]]) + "</strong>")
			}
			last = m[1]
		}
		b.WriteString(html.EscapeString(para[last:]))
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}

// jobj is a JSON object that remembers the order of its keys: the page follows the document's.
type jobj struct {
	keys []string
	m    map[string]any
}

func (o *jobj) get(k string) any {
	if o == nil {
		return nil
	}
	return o.m[k]
}

func (o *jobj) obj(k string) *jobj { return asObj(o.get(k)) }

func (o *jobj) str(k string) string {
	s, _ := o.get(k).(string)
	return s
}

func (o *jobj) arr(k string) []any {
	a, _ := o.get(k).([]any)
	return a
}

func (o *jobj) keysOrNil() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

func asObj(v any) *jobj {
	o, _ := v.(*jobj)
	return o
}

// decodeOrdered decodes JSON into *jobj, []any, string, json.Number, bool and nil.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the document")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jobj{m: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.m[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}

// apiRefLoader parses the API description on the reference page's first request, not at start:
// most servers never show it. The embedded description is parsed by the package's tests.
type apiRefLoader struct {
	once sync.Once
	doc  []byte
	ref  *apiReference
	err  error
}

func (l *apiRefLoader) load() (*apiReference, error) {
	l.once.Do(func() { l.ref, l.err = parseAPIReference(l.doc) })
	return l.ref, l.err
}

// apiReferencePage is GET /api-reference, for anyone: the API's description is public.
func (s *server) apiReferencePage(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.apiRef == nil {
		s.errorPage(w, r, v, http.StatusNotFound, "No API reference", "This server was started without an API description.")
		return
	}
	ref, err := s.apiRef.load()
	if err != nil { // the embedded description is parsed by the tests: a bug
		s.Log.ErrorContext(r.Context(), "the API description does not parse", "error", err)
		s.errorPage(w, r, v, http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side.")
		return
	}
	s.render(w, r, v, http.StatusOK, "apiref", &view{Title: "API reference", Nav: "api", Wide: true, Data: ref})
}

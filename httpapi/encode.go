package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// maxBodyBytes is the contract's request body limit.
const maxBodyBytes = 1 << 20

// encodeJSON is the one place responses are serialised.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// Header values every JSON answer carries, shared read-only (full, so that Add copies).
var (
	jsonContentType = []string{"application/json"}[:1:1]
	noStore         = []string{"no-store"}[:1:1]
)

// respond writes v as JSON with the given status. Every API response is private to its caller.
func respond(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if h.Get("Cache-Control") == "" {
		h["Cache-Control"] = noStore
	}
	w.WriteHeader(status)
	_ = encodeJSON(w, v)
}

var (
	errBodyTooLarge = &httpError{http.StatusRequestEntityTooLarge, "request_too_large", "The request body is larger than 1 MiB."}
	errMalformed    = &httpError{http.StatusBadRequest, "malformed_json", "The request body is not valid JSON of the expected shape."}
	errNUL          = &httpError{http.StatusBadRequest, "invalid_request_encoding", "Text fields may not contain NUL characters."}
	errMediaType    = &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the request body as application/json."}
)

// isJSONContentType accepts application/json and +json types; an absent header is taken as JSON,
// since many clients (and the guide's snippets) omit it on small requests.
func isJSONContentType(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// decode reads one JSON value into a T. An empty body decodes as the zero T when allowEmpty.
func decode[T any](r *http.Request, allowEmpty bool) (T, error) {
	var v T
	if !isJSONContentType(r) {
		return v, errMediaType
	}
	body, err := readBody(r)
	if err != nil {
		return v, err
	}
	// JSON may spell NUL as an escape; no field of the API may hold one.
	if bytes.Contains(body, []byte(`\u0000`)) {
		return v, errNUL
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return v, nil
		}
		return v, errMalformed
	}
	if err := unmarshalStrict(body, &v); err != nil {
		return v, err
	}
	return v, nil
}

// unmarshalStrict parses exactly one JSON value; trailing data is an error.
func unmarshalStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return errMalformed
	}
	if dec.More() {
		return errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return errMalformed
	}
	return nil
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, errMalformed
	}
	return body, nil
}

// The helpers below carry the shape most handlers share: decode the body, call a service, answer
// its error through writeError or its result through an answer function.

// serve calls do, then answers its result with ans, or its error through writeError.
func serve[T any](a *api, w http.ResponseWriter, r *http.Request, do func() (T, error), ans func(http.ResponseWriter, T)) {
	res, err := do()
	if err != nil {
		writeError(w, r, a.Log, err)
		return
	}
	ans(w, res)
}

// serveBody is serve with the request body decoded into In first (an empty body is malformed);
// a body that does not decode is answered through writeError and do is not called.
func serveBody[In, T any](a *api, w http.ResponseWriter, r *http.Request, do func(In) (T, error), ans func(http.ResponseWriter, T)) {
	in, err := decode[In](r, false)
	if err != nil {
		writeError(w, r, a.Log, err)
		return
	}
	serve(a, w, r, func() (T, error) { return do(in) }, ans)
}

// serveNoBody is serve for a call that takes no input: the body is checked as decode[struct{}]
// with an empty body allowed, and do is not called when it fails.
func serveNoBody[T any](a *api, w http.ResponseWriter, r *http.Request, do func() (T, error), ans func(http.ResponseWriter, T)) {
	if _, err := decode[struct{}](r, true); err != nil {
		writeError(w, r, a.Log, err)
		return
	}
	serve(a, w, r, do, ans)
}

// answer writes view of a result as JSON with status (respond's headers).
func answer[T, V any](status int, view func(T) V) func(http.ResponseWriter, T) {
	return func(w http.ResponseWriter, res T) { respond(w, status, view(res)) }
}

// answerSecret is answer for a result that carries a secret: Cache-Control: no-store is set
// outright, not only filled in when unset as respond does.
func answerSecret[T, V any](status int, view func(T) V) func(http.ResponseWriter, T) {
	return func(w http.ResponseWriter, res T) {
		w.Header().Set("Cache-Control", "no-store")
		respond(w, status, view(res))
	}
}

// answerTokens answers a sign-in's tokens with 200.
func answerTokens(w http.ResponseWriter, ts *gatehouse.TokenSet) { respondTokens(w, http.StatusOK, ts) }

// listOf lifts the view of one item to the view of a list; an empty list answers [] (not null).
func listOf[T, V any](view func(T) V) func([]T) []V {
	return func(list []T) []V {
		out := make([]V, 0, len(list))
		for _, x := range list {
			out = append(out, view(x))
		}
		return out
	}
}

// asIs is the view of a result that is answered as it is.
func asIs[T any](v T) T { return v }

// noContent answers 204 when err is nil, else err through writeError.
func (a *api) noContent(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		writeError(w, r, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// message answers {message} with 200 when err is nil, else err through writeError.
func (a *api) message(w http.ResponseWriter, r *http.Request, err error, text string) {
	if err != nil {
		writeError(w, r, a.Log, err)
		return
	}
	respond(w, http.StatusOK, messageJSON{Message: text})
}

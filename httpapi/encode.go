package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
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

package cimd

import (
	"net/url"
	"strings"
)

// MaxClientIDLength bounds the length of a client_id URL this package will consider. It is a
// local limit against abuse, not a rule of the draft.
const MaxClientIDLength = 2048

// IsClientIDURL reports whether clientID is meant as a Client Identifier URL, that is, whether it
// starts with "https://". It says nothing about validity: Fetch checks every rule. Gatehouse's
// own generated client_ids never start with "https://" (draft, Implementation Considerations:
// "Supporting Both Pre-Registered and Unregistered Clients"), so the prefix alone tells the two
// kinds apart.
func IsClientIDURL(clientID string) bool {
	return strings.HasPrefix(clientID, "https://")
}

// parseClientID checks clientID against the Client Identifier URL rules (draft-00 §3, current
// draft "Client Identifier URL") and returns it parsed. See doc.go for the rules and their
// sources.
func parseClientID(clientID string) (*url.URL, *Error) {
	if len(clientID) > MaxClientIDLength {
		return nil, fail("client_id is too long")
	}
	// Compare the raw prefix, not the parsed scheme: url.Parse lowercases the scheme, and a
	// client_id of "HTTPS://..." is a different string from the URL the document would name.
	if !IsClientIDURL(clientID) {
		return nil, fail("client_id must be an https URL")
	}
	u, err := url.Parse(clientID)
	if err != nil {
		return nil, failWith("client_id is not a valid URL", err)
	}
	if u.User != nil {
		return nil, fail("client_id must not contain a username or password")
	}
	if strings.Contains(clientID, "#") {
		return nil, fail("client_id must not contain a fragment")
	}
	if strings.Contains(clientID, "?") {
		return nil, fail("client_id must not contain a query string")
	}
	if u.Hostname() == "" {
		return nil, fail("client_id must name a host")
	}
	if u.Path == "" || u.Path == "/" {
		return nil, fail("client_id must contain a path component other than /")
	}
	// u.Path is percent-decoded, so "%2e%2E" is caught as "..", and so is a segment hidden
	// behind an encoded slash. That is stricter than RFC 3986 requires, on purpose.
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, fail("client_id must not contain . or .. path segments")
		}
	}
	// The document's client_id must equal the URL the server fetched, byte for byte. Refuse any
	// client_id that Go would not send exactly as written (a space, a bare non-ASCII byte, an
	// uppercase escape it rewrites), so that "the URL fetched" and "the client_id" are one string.
	if u.String() != clientID {
		return nil, fail("client_id is not in canonical URL form")
	}
	return u, nil
}

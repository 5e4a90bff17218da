// Package cimd fetches and validates OAuth Client ID Metadata Documents (CIMD,
// draft-ietf-oauth-client-id-metadata-document; the MCP authorization specification of
// 2025-11-25, "Client ID Metadata Documents", adopts draft -00). A client that has never
// registered uses an https URL as its client_id; the URL serves a JSON document with the
// client's metadata (RFC 7591 names), and the authorization server fetches it.
//
//	f := cimd.New(cimd.Options{})
//	if cimd.IsClientIDURL(clientID) {
//		doc, err := f.Fetch(ctx, clientID)
//		if err != nil {
//			// invalid_client, with err.(*cimd.Error).Reason as error_description
//		}
//		// doc.RedirectURIs are the registered redirect URIs, compared exactly
//	}
//
// Section numbers below are draft -00's (the revision MCP cites) and -01's, which share them;
// rules that arrived later are cited by section title from the editor's copy, where -01's
// sections 3, 4, 4.1, 4.4 and 6.5 became "Client Identifier URL", "Client Information
// Discovery", "Client ID Metadata Document", "Metadata Caching" and "Server Side Request Forgery
// (SSRF) Attacks". Where this package is stricter than the draft, or makes a choice the draft
// leaves open, the rule says so.
//
// # The client_id URL (draft §3)
//
// Fetch refuses, without any network traffic, a client_id that:
//   - does not start with "https://" (MUST use https). The scheme is compared as written, so
//     "HTTPS://..." is refused: the client_id is compared byte for byte later, and a client_id
//     is not a URL to be normalised.
//   - contains userinfo, even an empty "@" (MUST NOT contain a username or password).
//   - contains "#", even with an empty fragment (MUST NOT contain a fragment).
//   - contains "?", even with an empty query. The draft says SHOULD NOT contain a query;
//     Gatehouse takes the stricter reading and refuses it, so a client whose client_id has a
//     query cannot use Gatehouse. (Relaxing this means deleting one check in clientid.go.)
//   - has no host.
//   - has an empty path or the path "/" (MUST contain a path component; the editor's copy calls
//     "/" NOT RECOMMENDED, and MCP's example is a path to a file; Gatehouse refuses it).
//   - has a "." or ".." path segment, including percent-encoded forms such as "%2e%2E" (MUST
//     NOT contain single-dot or double-dot path segments).
//   - is not in the exact form Go would send on the wire (a space, a raw non-ASCII byte). The
//     document's client_id must match "the URL that the authorization server used to fetch the
//     document" (editor's copy, "Client ID Metadata Document"); this keeps the two one string.
//   - is longer than MaxClientIDLength (2048) bytes, a local limit.
//
// A port is allowed (MAY contain a port) and is part of the string: "https://a.example/c" and
// "https://a.example:443/c" are different clients (editor's copy, "Client Identifier URL").
//
// # Fetching (draft -01 §4, §6.5, §6.6)
//
//   - One GET request, "Accept: application/json", a User-Agent, no body, no cookies.
//   - Redirects are never followed: any 3xx is an error (-01 §4: MUST NOT automatically follow
//     HTTP redirects).
//   - Any status other than 200 is an error (-01 §4 and §4.1: MUST use 200 OK; all other codes
//     are errors).
//   - The whole fetch (connect, TLS, request, headers, body) is bounded by Options.Timeout,
//     5 s by default. A body that the deadline cut short is an error, never parsed.
//   - At most Options.MaxBytes (64 KiB by default) of body is read; a larger body, whether
//     announced by Content-Length or streamed, is an error, not truncated. The draft recommends
//     5 KB (§6.6, a SHOULD); a document with an inline jwks easily exceeds that, so Gatehouse
//     reads up to 64 KiB, which still bounds memory per fetch.
//   - HTTPS only, TLS 1.2 or later, certificates verified against the system's CA bundle (Go
//     honours SSL_CERT_FILE and SSL_CERT_DIR) unless Options.TLSConfig replaces it.
//   - No HTTP proxy is used, whatever the environment says: through a proxy, the address the
//     guard below checks would be the proxy's, not the client_id host's.
//   - Content-Type is not checked: the draft allows "more specific content types as long as the
//     response is JSON" (§4.1), so the body itself must parse as one JSON object.
//
// # SSRF (draft -00 §6.5 SHOULD; -01 §6.5 MUST)
//
// The fetcher never connects to a special-use address (RFC 6890 and the IANA special-purpose
// registries): loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, incl. the cloud
// metadata address, fe80::/10), unspecified (0/8, ::), multicast, broadcast, CGNAT 100.64/10,
// documentation, benchmarking and reserved ranges, and every IPv6 address outside 2000::/3. An
// IPv4 address carried in IPv6 (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4
// 2002::/16) is judged as the IPv4 address it carries.
//
// The check runs in the net.Dialer's Control hook: after DNS resolution, on the very address
// the socket is about to connect to, for every address tried. There is no separate "resolve,
// check, then connect" step, so a DNS answer that changes between the check and the connect
// (DNS rebinding) cannot get through, and a refused address is never connected to at all.
//
// Options.AllowPrivateNetworks turns the check off, for tests and local development only. The
// editor's copy allows a development server on loopback to fetch from its own loopback
// interface; it forbids the exception in production.
//
// # The document (draft §4.1, -00 §4.5 and §6.2, RFC 7591 §2, RFC 6749 §3.1.2)
//
//   - The body must be exactly one JSON object (RFC 8259) with no trailing data. A member name
//     that appears twice is refused: a parser that keeps the first and one that keeps the last
//     would read two different clients.
//   - Known members must have their RFC 7591 JSON types; unknown members are ignored (§4.1:
//     the document MAY define additional properties).
//   - client_id is required and must equal the client_id URL byte for byte: simple string
//     comparison, RFC 3986 §6.2.1, no normalisation (§4.1 MUST; MCP: MUST validate that the
//     fetched document's client_id matches the URL exactly). A trailing slash, a case
//     difference, an explicit default port or a percent-encoding difference is a mismatch.
//   - redirect_uris is required and must be non-empty (-00 §4.5: the server MUST require
//     registration of redirect URIs, per RFC 9700; this document is the registration). Each
//     entry must be an absolute URI without a fragment (RFC 6749 §3.1.2); schemes javascript,
//     data, vbscript and file are refused. Loopback http URIs and private-use schemes (native
//     apps, RFC 8252) are accepted: matching a request's redirect_uri exactly is the caller's
//     job.
//   - client_secret and client_secret_expires_at must not be present at all, not even as null
//     (§4.1: MUST NOT be used; no shared secret can exist for such a client).
//   - token_endpoint_auth_method must be "none" or "private_key_jwt". The draft forbids
//     client_secret_post, client_secret_basic, client_secret_jwt "or any other method based
//     around a shared symmetric secret" (§4.1), and names private_key_jwt as the way to
//     authenticate (§6.2). Methods that use no shared secret but that Gatehouse cannot verify
//     (tls_client_auth, self_signed_tls_client_auth, attestation) are refused too: accepting a
//     method means promising to require it. An absent value means "none": RFC 7591's default,
//     client_secret_basic, cannot apply to a client that has no secret, and MCP's example
//     document is a public client. Document.TokenEndpointAuthMethod holds the effective value.
//   - private_key_jwt requires jwks or jwks_uri (§6.2 and the editor's copy, "Client
//     Authentication": the server MUST authenticate the client with the key its document
//     publishes, so there must be one).
//   - jwks and jwks_uri must not both be present (RFC 7591 §2). jwks must be an object with a
//     "keys" array of objects, none carrying private or symmetric key members (d, p, q, dp, dq,
//     qi, oth, k) (editor's copy, "Credential and Key Material Restrictions": private key
//     material MUST NOT be included). jwks_uri must be an absolute https URL.
//   - client_uri, logo_uri, tos_uri and policy_uri, when present, must be absolute http or https
//     URLs without userinfo: they are shown or linked on the consent page, and a javascript:
//     URL there would run in Gatehouse's origin (editor's copy, SSRF section: fetch or parse
//     only known URL schemes).
//   - Kept as is: client_name, scope, grant_types, response_types, software_id,
//     software_version, contacts. Whether the grant and response types are allowed is the
//     authorization endpoint's decision.
//
// # Caching (draft §4.4)
//
// A valid document is cached in memory for the lifetime its response's headers give it (RFC
// 9111): Cache-Control max-age (less Age), else Expires less Date; no-store or no-cache, or no
// usable header, gives the minimum. The lifetime is then clamped to [MinCacheTTL, MaxCacheTTL],
// 5 minutes to 24 hours (§4.4: the server MAY define its own upper and lower bounds). no-store
// is thus not honoured literally: a document is cached for 5 minutes whatever it says, so that
// an authorization flow (authorize, then token) sees one document and a busy client cannot make
// every request a fetch.
//
// Concurrent Fetch calls for one client_id share one request (single flight). The shared fetch
// is bounded by Options.Timeout, not by any caller's context, so one caller giving up does not
// fail the others. The cache holds at most Options.CacheSize (10,000) entries and evicts the
// oldest stored first. Each caller gets its own copy of the Document.
//
// Failures are remembered for Options.NegativeTTL (30 s by default): within it, Fetch returns
// the same *Error without contacting the host, so that a flood of authorization requests naming
// a failing or hostile client_id makes at most one request per client_id per 30 s. The draft
// says the server "MUST NOT cache error responses" and "MUST NOT cache documents which are
// invalid or malformed" (§4.4). Gatehouse reads that as: an error response or an invalid
// document is never stored as, or used as, client metadata, which holds here: only the
// failure is remembered, and only for seconds. A deployment that prefers the literal reading
// sets NegativeTTL to a negative value, which turns the remembering off. Invalid client_id URLs are refused before
// the cache and are never stored.
//
// # Errors
//
// Every failure is an *Error. Its Reason is safe to send to the client as an OAuth
// error_description: it names at most the client_id's own host, never a resolved IP address, a
// response body or a Go error string. The cause, for logs, is available through errors.Unwrap.
package cimd

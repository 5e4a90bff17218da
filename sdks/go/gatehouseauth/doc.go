// Package gatehouseauth lets an API or MCP server accept Gatehouse access tokens.
//
// A [Verifier] checks an access token (a JWT, RFC 9068) the way a resource server must:
//
//   - the signature, against the issuer's JWKS (fetched once and cached; fetched again when a
//     token names an unknown kid, at most once every 10 seconds, so key rotation needs no
//     restart), with the algorithm pinned to the one the key is published for;
//   - the header "typ" is at+jwt (or application/at+jwt), so an ID token or any other JWT
//     signed with the same keys is refused;
//   - "iss" equals the configured issuer, and "aud" EQUALS this server's resource URI (a
//     token with several audiences is refused unless [Config.AllowMultipleAudiences]), so a
//     token issued for another service, or for Gatehouse's own API, is refused;
//   - "exp", "nbf" and "iat" with a small leeway;
//   - the scopes an operation needs (the space-separated "scope" claim).
//
// Verified tokens are cached, keyed on the SHA-256 of the whole token and never beyond the
// token's "exp", so a token seen before costs a hash and a map look-up.
//
// [Verifier.Middleware] protects net/http handlers and answers 401 and 403 with RFC 6750
// challenges that carry resource_metadata (RFC 9728) and the scopes the operation needs;
// [Verifier.HandleMetadata] serves the protected-resource metadata those challenges point to.
// Optionally, API keys are accepted through Gatehouse's introspection endpoint, and a token's
// session can be checked there so that a logout takes effect at once.
//
// The package depends on the standard library and github.com/go-jose/go-jose/v4 only. The
// adapter for the official MCP Go SDK is the separate module
// github.com/gatehouse/gatehouse/sdks/go/gatehousemcp.
package gatehouseauth

// Package token signs and verifies Gatehouse access tokens: short-lived JWTs (RFC 9068 "at+jwt")
// signed with asymmetric keys kept in the store, so that any instance, and any relying party that
// reads the JWKS, can verify a token without a shared secret.
//
// Key rotation needs no coordination between instances: a new key is published by every instance
// as soon as it is in the store, becomes the signing key within one reload interval, and the key
// it replaces stays published until every token that key could have signed has expired.
package token

// Package httpkit is the HTTP plumbing that Gatehouse's two HTTP edges share: the JSON API
// (httpapi) and the dashboard (web). It holds what must be the same on both, so that a client is
// one client whichever door it uses: who the caller is (its address, with X-Forwarded-For believed
// only from trusted proxies), how per-IP rate limits count it (IPv6 by /64), which HTTP status each
// domain error kind is, the Retry-After header, the access log with its metrics, and recovery from
// panics. Each edge keeps what is its own: the API's problem documents, the dashboard's pages.
package httpkit

package httpapi

import (
	"net/http"
	"net/netip"

	"github.com/gatehouse/gatehouse"
)

// ClientOf describes the caller of r exactly as the API does (X-Forwarded-For believed only from
// trusted proxies), so that other edges serving the same users (the dashboard) count rate limits
// and record audit events under the same address.
func ClientOf(r *http.Request, trusted []netip.Prefix) gatehouse.Client {
	return clientOf(r, trusted)
}

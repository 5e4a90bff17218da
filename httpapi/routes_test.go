package httpapi

import "testing"

func TestOwnsPathFollowsTheRouteTable(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/v1/auth/login": true, "/api/v1/nope": true, "/api": true, "/v1/auth/me": true,
		"/.well-known/jwks.json": true, "/healthz": true, "/readyz": true, "/openapi.json": true, "/metrics": true,
		"/": false, "/login": false, "/account/keys": false, "/api-reference": false, "/apiary": false, "/static/app.css": false,
	} {
		if got := OwnsPath(path); got != want {
			t.Errorf("OwnsPath(%q) = %v, want %v", path, got, want)
		}
	}
}

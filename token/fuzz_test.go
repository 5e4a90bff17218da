package token

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse"
)

// FuzzVerify feeds arbitrary strings to Verify, which must never panic and must return either
// claims or ErrUnauthenticated.
func FuzzVerify(f *testing.F) {
	iss, _, clk, key := setup(f, ES256)
	good := mustSign(f, iss, sampleClaims())
	parts := strings.Split(good, ".")
	h := validHeader(jwt.SigningMethodNone, key.ID)
	h["alg"] = "none"
	for _, seed := range []string{
		good,
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".e30." + parts[2],
		signRaw(f, jwt.SigningMethodNone, h, validClaims(clk), jwt.UnsafeAllowNoneSignatureType),
		"", ".", "..", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.",
		"eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6MX0.eyJleHAiOiIxIn0.AA",
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string) {
		c, err := iss.Verify(ctx, token)
		switch {
		case err != nil && !errors.Is(err, gatehouse.ErrUnauthenticated):
			t.Fatalf("error %v is not ErrUnauthenticated", err)
		case err != nil && c != nil:
			t.Fatal("claims returned with an error")
		case err == nil && (c == nil || c.Subject == "" || c.SessionID == "" || c.ID == ""):
			t.Fatalf("accepted with incomplete claims %+v", c)
		}
	})
}

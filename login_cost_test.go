package gatehouse_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/sqlstore"
	"github.com/gatehouse/gatehouse/token"
)

// The cost of a password login in database statements: what the login of a user with a second
// factor costs beyond the login of a user without, counted on the real stores with sqlstore's
// statement trace. PostgreSQL runs with GATEHOUSE_TEST_DB=postgres, as the end-to-end suite.

const costPassword = "correct horse battery staple"

// costStores opens the stores to measure: SQLite, and PostgreSQL when the suite runs on it.
func costStores(tb testing.TB) map[string]*sqlstore.Store {
	tb.Helper()
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "g.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lite.Close() })
	out := map[string]*sqlstore.Store{"sqlite": lite}
	if os.Getenv("GATEHOUSE_TEST_DB") == "postgres" {
		pg, err := postgres.Open(ctx, pgtest.NewMigratedDatabase(tb), postgres.Options{StatementTimeout: 10 * time.Second})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { pg.Close() })
		out["postgres"] = pg
	}
	return out
}

// costRig is an AuthService over store with two accounts: one without a second factor, one with
// a confirmed authenticator app.
type costRig struct {
	store       *sqlstore.Store
	auth        *gatehouse.AuthService
	tokens      *token.Issuer
	plain, totp string // their emails
}

func newCostRig(tb testing.TB, store *sqlstore.Store) *costRig {
	tb.Helper()
	ctx := context.Background()
	tokens := newTestIssuer(tb, store, "https://x")
	auth := newTestAuth(store, cheapHasher(), tokens)
	r := &costRig{store: store, auth: auth, tokens: tokens, plain: "plain@example.com", totp: "totp@example.com"}
	for _, email := range []string{r.plain, r.totp} {
		if _, err := auth.CreateUser(ctx, gatehouse.RegisterInput{Email: email, Password: costPassword, Name: "C"}, gatehouse.RoleUser, true); err != nil {
			tb.Fatal(err)
		}
	}
	u, err := store.UserByEmail(ctx, r.totp)
	if err != nil {
		tb.Fatal(err)
	}
	confirmed := time.Now()
	if err := store.Tx(ctx, func(tx gatehouse.StoreTx) error {
		if err := tx.PutTOTPFactor(ctx, &gatehouse.TOTPFactor{UserID: u.ID, Secret: []byte("sealed"), CreatedAt: confirmed}); err != nil {
			return err
		}
		return tx.UseTOTPStep(ctx, u.ID, 1, &confirmed)
	}); err != nil {
		tb.Fatal(err)
	}
	return r
}

// login signs in as email and reports the statements it ran; a user with a factor must get
// mfa_required, one without a session.
func (r *costRig) login(tb testing.TB, email string) []string {
	var queries []string
	r.store.Trace(func(q string) { queries = append(queries, q) })
	ts, err := r.auth.Login(context.Background(), email, costPassword, gatehouse.Client{})
	r.store.Trace(nil)
	var mfa *gatehouse.MFARequiredError
	switch {
	case email == r.totp && !errors.As(err, &mfa):
		tb.Fatalf("login with a factor: %v, want mfa_required", err)
	case email == r.plain && (err != nil || ts.AccessToken == ""):
		tb.Fatalf("login without a factor: %v", err)
	}
	return queries
}

// refresh spends token through auth (the rig's or another instance's over the same store) and
// returns the answer with the statements it ran.
func (r *costRig) refresh(tb testing.TB, auth *gatehouse.AuthService, token string) (*gatehouse.TokenSet, []string) {
	tb.Helper()
	var queries []string
	r.store.Trace(func(q string) { queries = append(queries, q) })
	next, err := auth.Refresh(context.Background(), token, gatehouse.Client{})
	r.store.Trace(nil)
	if err != nil {
		tb.Fatalf("refresh: %v", err)
	}
	return next, queries
}

// tokenReads counts the reads of a refresh token with its session and user among queries: the
// read the rotation cache saves.
func tokenReads(queries []string) (n int) {
	for _, q := range queries {
		if strings.Contains(q, "JOIN sessions s ON s.id = r.session_id") {
			n++
		}
	}
	return n
}

// TestLoginStatements: a login of a user without a second factor reads no factor table, and one
// with an authenticator app costs at most one statement more (the challenge it stores).
func TestLoginStatements(t *testing.T) {
	for name, store := range costStores(t) {
		t.Run(name, func(t *testing.T) {
			r := newCostRig(t, store)
			plain, totp := r.login(t, r.plain), r.login(t, r.totp)
			for _, q := range plain {
				if strings.Contains(q, "mfa_totp") || strings.Contains(q, "mfa_recovery") || strings.Contains(q, "mfa_challenges") {
					t.Errorf("the login of a user without a factor ran %q", q)
				}
			}
			if len(totp) > len(plain)+1 {
				t.Errorf("login with TOTP: %d statements, without: %d; want at most one more:\nwith:    %q\nwithout: %q",
					len(totp), len(plain), totp, plain)
			}
			t.Logf("%s: %d statements per login without a factor, %d with TOTP (up to mfa_required)", name, len(plain), len(totp))
		})
	}
}

// BenchmarkLoginStatements measures the domain's password login (cheap hash parameters, so the
// rest shows) for a user without a factor and one with TOTP (up to mfa_required), with the
// statements per login as a metric.
func BenchmarkLoginStatements(b *testing.B) {
	for name, store := range costStores(b) {
		r := newCostRig(b, store)
		for _, c := range []struct{ name, email string }{{"no_factor", r.plain}, {"totp", r.totp}} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				statements := 0
				for b.Loop() {
					statements += len(r.login(b, c.email))
				}
				b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
			})
		}
	}
}

// TestRefreshStatements: a refresh of a token this instance handed out — a sign-in's first, or a
// refresh's successor — reads nothing before the guarded write (the rotation cache); a token
// another instance handed out costs the read of token, session and user first.
func TestRefreshStatements(t *testing.T) {
	for name, store := range costStores(t) {
		t.Run(name, func(t *testing.T) {
			r := newCostRig(t, store)
			ctx := context.Background()
			ts, err := r.auth.Login(ctx, r.plain, costPassword, gatehouse.Client{})
			if err != nil {
				t.Fatal(err)
			}
			refresh := func(auth *gatehouse.AuthService, token string) (string, []string) {
				t.Helper()
				next, queries := r.refresh(t, auth, token)
				return next.RefreshToken, queries
			}
			token := ts.RefreshToken
			for i, what := range []string{"a sign-in's token", "a successor"} {
				var queries []string
				token, queries = refresh(r.auth, token)
				if n := tokenReads(queries); n != 0 {
					t.Errorf("refresh %d (%s) read the token %d times: %q", i+1, what, n, queries)
				}
			}
			// Another instance over the same database knows nothing of the token: it reads it.
			other := newTestAuth(store, cheapHasher(), r.tokens)
			token, queries := refresh(other, token)
			if n := tokenReads(queries); n != 1 {
				t.Errorf("another instance's refresh read the token %d times, want 1: %q", n, queries)
			}
			// And the successor it handed out is then its own: no read again.
			if _, queries := refresh(other, token); tokenReads(queries) != 0 {
				t.Errorf("the other instance's successor was read: %q", queries)
			}
		})
	}
}

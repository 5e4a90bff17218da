package gatehouse_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestVerifyEmailRules(t *testing.T) {
	r := newEmailRig(t)
	ctx := context.Background()
	ts := r.register(t, "alice@example.com")
	tok := r.lastToken(t, "alice@example.com", "verify-email")
	if len(tok) < 22 { // 128 bits in base64url
		t.Fatalf("token %q is too short", tok)
	}
	res, err := r.auth.VerifyEmail(ctx, tok, gatehouse.Client{})
	if err != nil || res.AlreadyVerified {
		t.Fatalf("first use: %v %+v", err, res)
	}
	u, _ := r.auth.User(ctx, ts.User.ID)
	if !u.EmailVerified {
		t.Fatal("not verified")
	}
	// Following the same link again is answered kindly, but only while the token lives.
	if res, err = r.auth.VerifyEmail(ctx, tok, gatehouse.Client{}); err != nil || !res.AlreadyVerified {
		t.Fatalf("second use: %v %+v", err, res)
	}
	r.clock.Advance(25 * time.Hour)
	if _, err := r.auth.VerifyEmail(ctx, tok, gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("used and expired token: %v", err)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("a", 300)} {
		if _, err := r.auth.VerifyEmail(ctx, bad, gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestVerifyTokenExpires(t *testing.T) {
	r := newEmailRig(t)
	r.register(t, "bob@example.com")
	tok := r.lastToken(t, "bob@example.com", "verify-email")
	r.clock.Advance(24 * time.Hour)
	if _, err := r.auth.VerifyEmail(context.Background(), tok, gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("expired token: %v", err)
	}
}

// A token proves control of the mailbox it was sent to, not of the account: once the account's
// address is another, the token is dead.
func TestVerifyTokenIsBoundToTheAddress(t *testing.T) {
	r := newEmailRig(t)
	ctx := context.Background()
	ts := r.register(t, "carol@example.com")
	tok := r.lastToken(t, "carol@example.com", "verify-email")
	if _, err := r.store.DB().ExecContext(ctx, `UPDATE users SET email = 'carol.new@example.com' WHERE id = ?`, ts.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.VerifyEmail(ctx, tok, gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("token for the old address: %v", err)
	}
	if u, _ := r.auth.User(ctx, ts.User.ID); u.EmailVerified {
		t.Fatal("verified the new address with the old address's token")
	}
}

func TestResendVerification(t *testing.T) {
	r := newEmailRig(t)
	ctx := context.Background()
	ts := r.register(t, "dan@example.com")
	p := &gatehouse.Principal{User: ts.User, SessionID: ts.SessionID}
	// The registration email does not count: the first resend goes through at once.
	if err := r.auth.ResendVerification(ctx, p); err != nil {
		t.Fatal(err)
	}
	err := r.auth.ResendVerification(ctx, p)
	var ge *gatehouse.Error
	if !errors.As(err, &ge) || ge.Kind != gatehouse.KindRateLimited || ge.RetryAfter <= 0 || ge.RetryAfter > time.Minute {
		t.Fatalf("second resend within a minute: %v", err)
	}
	r.clock.Advance(time.Minute)
	if err := r.auth.ResendVerification(ctx, p); err != nil {
		t.Fatal(err)
	}
	r.process(t)
	if n := len(r.mailer.messages()); n != 3 {
		t.Fatalf("%d emails, want 3", n)
	}
	// Every link sent works until one is used; then the others are gone.
	first := tokenInLink.FindStringSubmatch(r.mailer.messages()[0].Text)[2]
	tok := r.lastToken(t, "dan@example.com", "verify-email")
	if _, err := r.auth.VerifyEmail(ctx, tok, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.VerifyEmail(ctx, first, gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("obsolete token after verification: %v", err)
	}
	if err := r.auth.ResendVerification(ctx, p); !isErr(err, gatehouse.ErrEmailAlreadyVerified) {
		t.Fatalf("resend when verified: %v", err)
	}
}

func TestResetPasswordRules(t *testing.T) {
	r := newEmailRig(t)
	ctx := context.Background()
	ts := r.register(t, "erin@example.com")
	if err := r.auth.ForgotPassword(ctx, "  ERIN@example.com "); err != nil {
		t.Fatal(err)
	}
	first := r.lastToken(t, "erin@example.com", "reset-password")
	if err := r.auth.ForgotPassword(ctx, "erin@example.com"); err != nil {
		t.Fatal(err)
	}
	second := r.lastToken(t, "erin@example.com", "reset-password")
	// The verification token is not a reset token, nor the other way round.
	verify := r.lastToken(t, "erin@example.com", "verify-email")
	if err := r.auth.ResetPassword(ctx, verify, "a brand new passphrase", gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("verify token used to reset: %v", err)
	}
	if _, err := r.auth.VerifyEmail(ctx, second, gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("reset token used to verify: %v", err)
	}
	// A password the policy refuses leaves the token usable.
	var ge *gatehouse.Error
	if err := r.auth.ResetPassword(ctx, second, "short", gatehouse.Client{}); !errors.As(err, &ge) || ge.Kind != gatehouse.KindInvalid {
		t.Fatalf("weak password: %v", err)
	}
	if err := r.auth.ResetPassword(ctx, second, "a brand new passphrase", gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	// Single use, and the user's other reset token went with it.
	if err := r.auth.ResetPassword(ctx, second, "another new passphrase", gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("reuse: %v", err)
	}
	if err := r.auth.ResetPassword(ctx, first, "another new passphrase", gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("the other reset token: %v", err)
	}
	// Sessions revoked, address verified, notice sent.
	if _, err := r.auth.Refresh(ctx, ts.RefreshToken, gatehouse.Client{}); err == nil {
		t.Fatal("refresh token survived the reset")
	}
	if u, _ := r.auth.User(ctx, ts.User.ID); !u.EmailVerified {
		t.Fatal("a reset proves the mailbox: the address should be verified")
	}
	r.process(t)
	msgs := r.mailer.messages()
	if last := msgs[len(msgs)-1]; !strings.Contains(last.Subject, "password was changed") || strings.Contains(last.Text, "token=") {
		t.Fatalf("last email: %q\n%s", last.Subject, last.Text)
	}
	if _, err := r.auth.Login(ctx, "erin@example.com", "a brand new passphrase", gatehouse.Client{}); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
}

func TestResetTokenExpires(t *testing.T) {
	r := newEmailRig(t)
	r.register(t, "fay@example.com")
	_ = r.auth.ForgotPassword(context.Background(), "fay@example.com")
	tok := r.lastToken(t, "fay@example.com", "reset-password")
	r.clock.Advance(time.Hour)
	if err := r.auth.ResetPassword(context.Background(), tok, "a brand new passphrase", gatehouse.Client{}); !isErr(err, gatehouse.ErrInvalidEmailToken) {
		t.Fatalf("expired: %v", err)
	}
}

func TestConcurrentResetsWithOneToken(t *testing.T) {
	r := newEmailRig(t)
	r.register(t, "gus@example.com")
	_ = r.auth.ForgotPassword(context.Background(), "gus@example.com")
	tok := r.lastToken(t, "gus@example.com", "reset-password")
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() {
			errs[i] = r.auth.ResetPassword(context.Background(), tok, "concurrent passphrase "+string(rune('a'+i)), gatehouse.Client{})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !isErr(err, gatehouse.ErrInvalidEmailToken):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d resets succeeded, want exactly 1", ok)
	}
}

func TestForgotPasswordUnknownAndDisabled(t *testing.T) {
	r := newEmailRig(t)
	ctx := context.Background()
	if err := r.auth.ForgotPassword(ctx, "nobody@example.com"); err != nil {
		t.Fatal(err)
	}
	ts := r.register(t, "hal@example.com")
	r.process(t)
	before := len(r.mailer.messages())
	if _, err := r.auth.UpdateUser(ctx, gatehouse.Operator, ts.User.ID, gatehouse.AdminUserUpdate{IsActive: new(false)}); err != nil {
		t.Fatal(err)
	}
	if err := r.auth.ForgotPassword(ctx, "hal@example.com"); err != nil {
		t.Fatal(err)
	}
	r.process(t)
	if n := len(r.mailer.messages()); n != before {
		t.Fatalf("emails sent to an unknown or disabled account: %d", n-before)
	}
	var ge *gatehouse.Error
	if err := r.auth.ForgotPassword(ctx, "not an address"); !errors.As(err, &ge) || ge.Kind != gatehouse.KindInvalid {
		t.Fatalf("malformed address: %v", err)
	}
}

func TestChangePasswordSendsNotice(t *testing.T) {
	r := newEmailRig(t)
	ctx := context.Background()
	ts := r.register(t, "ivy@example.com")
	p := &gatehouse.Principal{User: ts.User, SessionID: ts.SessionID}
	if err := r.auth.ChangePassword(ctx, p, "correct horse battery", "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	r.process(t)
	msgs := r.mailer.messages()
	if len(msgs) != 2 || !strings.Contains(msgs[0].Subject+msgs[1].Subject, "password was changed") {
		t.Fatalf("emails: %d, want the verification and the notice", len(msgs))
	}
}

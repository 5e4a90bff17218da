package totp

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"
)

func TestMatchTOTPWindow(t *testing.T) {
	secret, uri, err := Engine{}.NewTOTP("Gatehouse", "ada@example.com")
	if err != nil || len(secret) != 32 || uri == "" {
		t.Fatalf("NewTOTP: %q %q %v", secret, uri, err)
	}
	now := time.Unix(1_800_000_015, 0) // step 60,000,000
	step := now.Unix() / Period
	for d := int64(-3); d <= 3; d++ {
		code, err := Code(secret, now.Add(time.Duration(d)*Period*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := Engine{}.MatchTOTP(secret, code, now)
		inWindow := d >= -Skew && d <= Skew
		if ok != inWindow || (ok && got != step+d) {
			t.Errorf("offset %d: step %d ok %v (want step %d, ok %v)", d, got, ok, step+d, inWindow)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := (Engine{}).MatchTOTP(secret, bad, now); ok {
			t.Errorf("%q matched", bad)
		}
	}
	if _, ok := (Engine{}).MatchTOTP("not base32!", "123456", now); ok {
		t.Error("a bad secret matched")
	}
}

func TestQRCode(t *testing.T) {
	_, uri, err := Engine{}.NewTOTP("Gatehouse", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	img, err := Engine{}.QRCode(uri)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != QRSize || cfg.Height != QRSize {
		t.Fatalf("not a %d-pixel PNG: %+v %v", QRSize, cfg, err)
	}
	again, _ := Engine{}.QRCode(uri)
	other, _ := Engine{}.QRCode(strings.Replace(uri, "ada", "bob", 1))
	if !bytes.Equal(img, again) || bytes.Equal(img, other) {
		t.Fatal("the image is not a function of the URI")
	}
	if _, err := (Engine{}).QRCode("%%not a uri"); err == nil {
		t.Fatal("a malformed URI rendered")
	}
}

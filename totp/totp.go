// Package totp is the TOTP arithmetic of RFC 6238 (SHA-1, 6 digits, 30-second steps) over
// github.com/pquerna/otp: new secrets with their otpauth:// URIs, and matching a code to its time
// step within one step of now. It implements gatehouse.OTP.
package totp

import (
	"bytes"
	"crypto/subtle"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	ptotp "github.com/pquerna/otp/totp"
)

// Period is the length of a time step in seconds, and Skew how many steps either side of now a
// code is accepted for.
const (
	Period = 30
	Skew   = 1
	Digits = otp.DigitsSix
)

// Engine implements gatehouse.OTP.
type Engine struct{}

// NewTOTP makes a 160-bit secret (base32, no padding) and its otpauth:// URI.
func (Engine) NewTOTP(issuer, account string) (secret, uri string, err error) {
	key, err := ptotp.Generate(ptotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		SecretSize:  20,
		Digits:      Digits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", err
	}
	return key.Secret(), key.URL(), nil
}

// QRSize is the width and height, in pixels, of the QR code images QRCode makes.
const QRSize = 240

// QRCode renders an otpauth:// URI as a QR code, a PNG image of QRSize pixels square, for
// authenticator apps to scan (pquerna/otp's rendering, over boombuler/barcode). The same URI always
// gives the same bytes.
func (Engine) QRCode(uri string) ([]byte, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MatchTOTP returns the step whose code is code among now's and its neighbours. Every candidate
// is computed and compared in constant time, so the time taken says nothing of which matched.
func (Engine) MatchTOTP(secret, code string, now time.Time) (int64, bool) {
	if len(code) != int(Digits) {
		return 0, false
	}
	current := now.Unix() / Period
	var found int64
	ok := 0
	for d := int64(-Skew); d <= Skew; d++ {
		step := current + d
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: Digits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && ok == 0 {
			found, ok = step, 1
		}
	}
	return found, ok == 1
}

// Code is the code of secret at t, for tests and tools.
func Code(secret string, t time.Time) (string, error) {
	return ptotp.GenerateCodeCustom(secret, t, ptotp.ValidateOpts{Period: Period, Digits: Digits, Algorithm: otp.AlgorithmSHA1})
}

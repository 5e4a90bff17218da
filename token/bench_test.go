package token

import (
	"context"
	"testing"
)

func benchSign(b *testing.B, alg string) {
	iss, _, _, _ := setup(b, alg)
	ctx := context.Background()
	c := sampleClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Sign(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, alg string) {
	iss, _, _, _ := setup(b, alg)
	ctx := context.Background()
	tok := mustSign(b, iss, sampleClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignES256(b *testing.B)   { benchSign(b, ES256) }
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, ES256) }
func BenchmarkSignRS256(b *testing.B)   { benchSign(b, RS256) }
func BenchmarkVerifyRS256(b *testing.B) { benchVerify(b, RS256) }
func BenchmarkSignEdDSA(b *testing.B)   { benchSign(b, EdDSA) }
func BenchmarkVerifyEdDSA(b *testing.B) { benchVerify(b, EdDSA) }

package seal

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal([]byte("the token"), []byte("row-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("the token")) {
		t.Fatal("sealed value contains the plaintext")
	}
	if plain, err := b.Open(sealed, []byte("row-1")); err != nil || string(plain) != "the token" {
		t.Fatalf("open: %q %v", plain, err)
	}
	if _, err := b.Open(sealed, []byte("row-2")); err != ErrOpen {
		t.Fatalf("opened with other additional data: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed, []byte("row-1")); err != ErrOpen {
		t.Fatalf("opened with another key: %v", err)
	}
	if other.KeyID() == b.KeyID() || len(b.KeyID()) != 16 {
		t.Fatalf("key ids %q %q", b.KeyID(), other.KeyID())
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open(tampered, []byte("row-1")); err != ErrOpen {
		t.Fatal("opened a tampered value")
	}
	if _, err := b.Open([]byte("short"), nil); err != ErrOpen {
		t.Fatal("opened garbage")
	}
	again, _ := b.Seal([]byte("the token"), []byte("row-1"))
	if bytes.Equal(again, sealed) {
		t.Fatal("nonce reused")
	}
	if _, err := New(key[:16]); err == nil {
		t.Fatal("accepted a 16-byte key")
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Processes starting at once end up with one key.
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, fromFile, err := LoadKey("", dir)
			if err != nil || !fromFile {
				t.Errorf("LoadKey: %v %v", fromFile, err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != KeySize {
			t.Fatal("concurrent starts made different keys")
		}
	}
	info, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	k, _, err := LoadKey("", dir)
	if err != nil || !bytes.Equal(k, keys[0]) {
		t.Fatal("the key changed on reload")
	}
	os.WriteFile(filepath.Join(dir, KeyFileName), []byte("garbage\n"), 0o600)
	if _, _, err := LoadKey("", dir); err == nil {
		t.Fatal("accepted a corrupt key file")
	}
}

func TestLoadKeyFromEnv(t *testing.T) {
	key := bytes.Repeat([]byte{9}, KeySize)
	dir := t.TempDir()
	for _, v := range []string{base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key), " " + base64.StdEncoding.EncodeToString(key) + "\n"} {
		k, fromFile, err := LoadKey(v, dir)
		if err != nil || fromFile || !bytes.Equal(k, key) {
			t.Fatalf("%q: %v %v", v, fromFile, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatal("a key file was written although the key came from the environment")
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString(key[:31])} {
		if _, _, err := LoadKey(bad, dir); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestDerive(t *testing.T) {
	master := bytes.Repeat([]byte{1}, KeySize)
	a, err := Derive(master, "email outbox")
	if err != nil || len(a) != KeySize {
		t.Fatal(err)
	}
	b, _ := Derive(master, "signing keys")
	again, _ := Derive(master, "email outbox")
	if bytes.Equal(a, b) || bytes.Equal(a, master) || !bytes.Equal(a, again) {
		t.Fatal("derived keys are not separate and stable")
	}
}

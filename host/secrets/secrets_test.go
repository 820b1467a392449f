package secrets_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/host/secrets"
)

func box(t *testing.T, key string) *secrets.Box {
	t.Helper()
	b, err := secrets.Load("", key)
	if err != nil || b == nil {
		t.Fatalf("loading key %q: %v", key, err)
	}
	return b
}

func TestSealAndOpen(t *testing.T) {
	b := box(t, secrets.NewKey())
	sealed := b.Seal("shpat_123", "channel/shop/access_token")
	if !secrets.IsSealed(sealed) || strings.Contains(sealed, "shpat_123") {
		t.Fatalf("sealed = %q", sealed)
	}
	if again := b.Seal("shpat_123", "channel/shop/access_token"); again == sealed {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if got, err := b.Open(sealed, "channel/shop/access_token"); err != nil || got != "shpat_123" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// One bit of the ciphertext flipped (flipping a character of the text
	// could make it invalid base64 instead).
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, "ogs1:"))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	tampered := "ogs1:" + base64.RawStdEncoding.EncodeToString(raw)
	for name, tc := range map[string]struct {
		box          *secrets.Box
		value, place string
	}{
		"another place": {b, sealed, "channel/other/access_token"},
		"another key":   {box(t, secrets.NewKey()), sealed, "channel/shop/access_token"},
		"altered":       {b, tampered, "channel/shop/access_token"},
	} {
		if _, err := tc.box.Open(tc.value, tc.place); !errors.Is(err, secrets.ErrWrongKey) {
			t.Errorf("%s: %v, want ErrWrongKey", name, err)
		}
	}
	for _, bad := range []string{"plain", "ogs1:", "ogs1:!!!"} {
		if _, err := b.Open(bad, "x"); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestKeyFormats(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef")
	sealed := box(t, base64.StdEncoding.EncodeToString(raw)).Seal("v", "p")
	for name, text := range map[string]string{
		"base64":     base64.StdEncoding.EncodeToString(raw) + "\n",
		"base64 url": base64.RawURLEncoding.EncodeToString(raw),
		"hex":        "  " + hex.EncodeToString(raw),
	} {
		if got, err := box(t, text).Open(sealed, "p"); err != nil || got != "v" {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	for _, bad := range []string{"short", base64.StdEncoding.EncodeToString(raw[:16]), hex.EncodeToString(append(raw, 0))} {
		if _, err := secrets.Load("", bad); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
	file := filepath.Join(t.TempDir(), "key")
	os.WriteFile(file, []byte(secrets.NewKey()+"\n"), 0o600)
	if b, err := secrets.Load(file, "ignored"); err != nil || b == nil {
		t.Errorf("key file: %v", err)
	}
	if _, err := secrets.Load(filepath.Join(t.TempDir(), "missing"), ""); err == nil {
		t.Error("a missing key file was accepted")
	}
	if b, err := secrets.Load("", ""); b != nil || err != nil {
		t.Errorf("no key: %v %v", b, err)
	}
}

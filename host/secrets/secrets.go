// Package secrets seals the secrets ordergate keeps (connector settings
// marked secret, alert destinations' signing secrets and passwords) with
// AES-256-GCM before they are stored, so a copy of the database file or a
// backup does not give them away without the key.
//
// The key is 32 random bytes, given base64- or hex-encoded in a file
// (--secret-key-file) or in ORDERGATE_SECRET_KEY. A sealed value is the
// text "ogs1:" and the base64 of a random 12-byte nonce and the
// ciphertext. The place a value belongs to (e.g.
// "channel/shopify/access_token") is authenticated with it, so a sealed
// value moved to another place does not open.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

const prefix = "ogs1:"

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a box for a KeySize-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a secret key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// ParseKey reads a key written as base64 (standard or URL alphabet, with
// or without padding) or hex, around any whitespace.
func ParseKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if key, err := dec(text); err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("a secret key must be %d random bytes in base64 or hex (e.g. the output of `openssl rand -base64 32`)", KeySize)
}

// Load returns the box of the key in file, or else of the key text
// (ORDERGATE_SECRET_KEY), or nil when neither is given.
func Load(file, text string) (*Box, error) {
	switch {
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading the secret key: %w", err)
		}
		text = string(data)
	case text == "":
		return nil, nil
	}
	key, err := ParseKey(text)
	if err != nil {
		return nil, err
	}
	return NewBox(key)
}

// NewKey returns a new random key, base64-encoded.
func NewKey() string {
	key := make([]byte, KeySize)
	rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}

// IsSealed reports whether s is a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }

// Seal seals plain for the place it is stored at.
func (b *Box) Seal(plain, place string) string {
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	sealed := b.aead.Seal(nonce, nonce, []byte(plain), []byte(place))
	return prefix + base64.RawStdEncoding.EncodeToString(sealed)
}

// ErrWrongKey is returned by Open for a value sealed with another key (or
// for another place, or altered).
var ErrWrongKey = errors.New("the secret does not open with this key: it was sealed with another key, or altered")

// Open opens a value sealed for place.
func (b *Box) Open(sealed, place string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if !IsSealed(sealed) || err != nil || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("%s: not a sealed secret", place)
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(place))
	if err != nil {
		return "", fmt.Errorf("%s: %w", place, ErrWrongKey)
	}
	return string(plain), nil
}

package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
)

func newBox(t *testing.T) *secrets.Box {
	t.Helper()
	b, err := secrets.Load("", secrets.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSecretsSealedAtRest: channel and destination secrets never reach the
// file in plain text, read back plain, and the database is refused without
// its key or with another.
func TestSecretsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := newBox(t)
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UseSecrets(ctx, key); err != nil {
		t.Fatal(err)
	}
	ch := &host.Channel{ID: "shop", Kind: "b2c", Connector: "shopify", SecretFields: []string{"access_token"},
		Config: map[string]any{"shop_domain": "acme.myshopify.com", "access_token": "shpat_TOPSECRET1"}}
	if _, err := db.EnsureChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if ch.Config["access_token"] != "shpat_TOPSECRET1" {
		t.Error("storing the channel changed the caller's config")
	}
	ch.Config = map[string]any{"shop_domain": "acme.myshopify.com", "access_token": "shpat_TOPSECRET2"}
	if _, err := db.UpdateChannel(ctx, ch.ID, func(c *host.Channel) error { *c = *ch; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDestination(ctx, &host.Destination{Name: "ops", Kind: "email", Password: "smtp-TOPSECRET3"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDestination(ctx, &host.Destination{Name: "hook", Kind: "webhook", URL: "https://example.com", Secret: "whsec_TOPSECRET4"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Channel(ctx, "shop")
	if err != nil || got.Config["access_token"] != "shpat_TOPSECRET2" {
		t.Fatalf("channel read back: %v %v", got, err)
	}
	if all, err := db.Channels(ctx); err != nil || all[0].Config["access_token"] != "shpat_TOPSECRET2" {
		t.Fatalf("channels read back: %v %v", all, err)
	}
	dests, err := db.Destinations(ctx)
	if err != nil || dests[0].Secret != "whsec_TOPSECRET4" || dests[1].Password != "smtp-TOPSECRET3" {
		t.Fatalf("destinations read back: %+v %v", dests, err)
	}
	db.Close()
	file, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte("TOPSECRET")) {
		t.Fatal("a secret is in the database file in plain text")
	}

	for name, box := range map[string]*secrets.Box{"no key": nil, "another key": newBox(t)} {
		db, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.UseSecrets(ctx, box)
		db.Close()
		if err == nil {
			t.Errorf("%s: the database with sealed secrets was accepted", name)
		}
	}
}

// TestSecretsWithoutKey: a host without a key refuses to store a secret
// (invalid input naming the field) and stores channels without one.
func TestSecretsWithoutKey(t *testing.T) {
	ctx := context.Background()
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.UseSecrets(ctx, nil); err != nil {
		t.Fatal(err)
	}
	ch := &host.Channel{ID: "shop", Kind: "b2c", SecretFields: []string{"access_token"}, Config: map[string]any{"access_token": "x"}}
	_, err = db.EnsureChannel(ctx, ch)
	var he *host.Error
	if !errors.As(err, &he) || he.Code != host.EINVALID || len(he.Fields) != 1 || he.Fields[0].Field != "config.access_token" {
		t.Fatalf("storing a secret without a key: %v", err)
	}
	if _, err := db.Channel(ctx, "shop"); host.ErrorCode(err) != host.ENOTFOUND {
		t.Errorf("the refused channel was stored: %v", err)
	}
	if _, err := db.EnsureChannel(ctx, &host.Channel{ID: "acme", Kind: "b2b"}); err != nil {
		t.Errorf("a channel without secrets: %v", err)
	}
}

// TestPlainSecretsAreSealedOnStart: secrets an older version stored in
// plain text are sealed when a key is given, and refused without one.
func TestPlainSecretsAreSealedOnStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(&host.Channel{ID: "shop", Kind: "b2c", SecretFields: []string{"access_token"}, Config: map[string]any{"access_token": "plain-old"}})
	db.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketChannels).Put([]byte("shop"), old) })
	if err := db.UseSecrets(ctx, nil); err == nil || !strings.Contains(err.Error(), "no secret key") {
		t.Errorf("plain secrets without a key: %v", err)
	}
	key := newBox(t)
	if err := db.UseSecrets(ctx, key); err != nil {
		t.Fatal(err)
	}
	db.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketChannels).Get([]byte("shop")); bytes.Contains(v, []byte("plain-old")) {
			t.Errorf("still plain: %s", v)
		}
		return nil
	})
	if ch, err := db.Channel(ctx, "shop"); err != nil || ch.Config["access_token"] != "plain-old" {
		t.Errorf("after sealing: %v %v", ch, err)
	}
	db.Close()
}

// TestSecretsFromCallersAreAlwaysSealed: a value that looks sealed is
// sealed like any other and reads back as given; a secret setting that is
// not text is refused, not stored as it is.
func TestSecretsFromCallersAreAlwaysSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.UseSecrets(ctx, newBox(t)); err != nil {
		t.Fatal(err)
	}
	tricky := "ogs1:looks-sealed-TOPSECRET5"
	ch := &host.Channel{ID: "shop", Kind: "b2c", SecretFields: []string{"token"}, Config: map[string]any{"token": tricky}}
	if _, err := db.EnsureChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Channel(ctx, "shop"); err != nil || got.Config["token"] != tricky {
		t.Fatalf("read back %v, %v", got, err)
	}
	db.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketChannels).Get([]byte("shop")); bytes.Contains(v, []byte("TOPSECRET5")) {
			t.Errorf("stored as given: %s", v)
		}
		return nil
	})
	odd := &host.Channel{ID: "odd", Kind: "b2c", SecretFields: []string{"pin"}, Config: map[string]any{"pin": 1234}}
	_, err = db.EnsureChannel(ctx, odd)
	var he *host.Error
	if !errors.As(err, &he) || he.Code != host.EINVALID || he.Fields[0].Field != "config.pin" {
		t.Errorf("a number as a secret setting: %v", err)
	}
}

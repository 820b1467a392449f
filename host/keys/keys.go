// Package keys is the API key service: it creates and revokes keys with
// their rules, for both the API and the `ordergate keys create` command
// (which runs as host.System on a stopped host's data).
package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Store is what the service reads and writes.
type Store interface {
	host.KeyStore
	host.ChannelStore
}

// Service is the key service.
type Service struct {
	store Store
	now   func() time.Time
}

// New returns the service; now is the host's clock.
func New(store Store, now func() time.Time) *Service { return &Service{store: store, now: now} }

// Create makes a new key of the role. A reseller key is bound to one B2B
// channel; naming a channel that does not exist yet creates it. The secret
// is returned once and never stored.
func (s *Service) Create(ctx context.Context, role, channel, name string) (*host.APIKey, string, error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return nil, "", err
	}
	ks, cs := s.store, s.store
	var bad []sdk.FieldError
	switch role {
	case host.RoleAdmin, host.RoleOperator, host.RoleMetrics:
		if channel != "" {
			bad = append(bad, sdk.FieldError{Field: "channel_id", Detail: "only reseller keys are bound to a channel"})
		}
	case host.RoleReseller:
		if !host.ValidChannelID(channel) {
			bad = append(bad, sdk.FieldError{Field: "channel_id", Detail: "is required for a reseller key: 1-64 lower-case letters, digits, '_' or '-'"})
		}
	default:
		bad = append(bad, sdk.FieldError{Field: "role", Detail: "must be admin, operator, reseller or metrics"})
	}
	if len(name) > 200 {
		bad = append(bad, sdk.FieldError{Field: "name", Detail: "must be at most 200 characters"})
	}
	if len(bad) > 0 {
		return nil, "", host.InvalidFields("the key request is not valid", bad)
	}
	now := s.now()
	if role == host.RoleReseller {
		ch, err := cs.EnsureChannel(ctx, &host.Channel{ID: channel, Name: channel, Kind: host.ChannelB2B, CreatedAt: now})
		if err != nil {
			return nil, "", err
		}
		if ch.Kind != host.ChannelB2B {
			return nil, "", host.InvalidFields("reseller keys post to B2B channels", []sdk.FieldError{{Field: "channel_id", Detail: fmt.Sprintf("channel %q is %s", channel, ch.Kind)}})
		}
	}
	secret, hash, err := host.NewKeySecret()
	if err != nil {
		return nil, "", fmt.Errorf("generating a key: %w", err)
	}
	k := &host.APIKey{ID: host.NewID("key_"), Role: role, ChannelID: channel, Name: name, Hash: hash, CreatedAt: now}
	if err := ks.CreateKey(ctx, k); err != nil {
		return nil, "", fmt.Errorf("storing the key: %w", err)
	}
	return k, secret, nil
}

// Delete revokes a key; it stops working at once.
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return err
	}
	return s.store.DeleteKey(ctx, id)
}

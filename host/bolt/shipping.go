package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// PutShippingMappings implements host.CatalogStore.
func (d *DB) PutShippingMappings(ctx context.Context, m *host.ShippingMappings) error {
	err := d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketChannels).Get([]byte(m.ChannelID)) == nil {
			return host.Errorf(host.ENOTFOUND, "channel %s not found", m.ChannelID)
		}
		return putJSON(tx.Bucket(bucketShipping), m.ChannelID, m)
	})
	if err != nil {
		return fmt.Errorf("storing shipping mappings of %s: %w", m.ChannelID, err)
	}
	return nil
}

// ShippingMappings implements host.CatalogStore; a channel without
// mappings has an empty set.
func (d *DB) ShippingMappings(_ context.Context, channelID string) (*host.ShippingMappings, error) {
	m := &host.ShippingMappings{ChannelID: channelID, Methods: map[string]string{}}
	err := d.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketChannels).Get([]byte(channelID)) == nil {
			return host.Errorf(host.ENOTFOUND, "channel %s not found", channelID)
		}
		if stored, err := getJSON[host.ShippingMappings](tx.Bucket(bucketShipping), channelID, ""); err == nil {
			m = stored
		}
		return nil
	})
	return m, err
}

package postgres

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/host"
)

// PutShippingMappings implements host.CatalogStore.
func (d *DB) PutShippingMappings(ctx context.Context, m *host.ShippingMappings) error {
	data, err := jsonText(m)
	if err != nil {
		return err
	}
	tag, err := d.q.Exec(ctx, `INSERT INTO shipping_mappings (channel_id, data) SELECT id, $2::jsonb FROM channels WHERE id = $1
		ON CONFLICT (channel_id) DO UPDATE SET data = EXCLUDED.data`, m.ChannelID, data)
	if err != nil {
		return fmt.Errorf("storing shipping mappings of %s: %w", m.ChannelID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("storing shipping mappings of %s: %w", m.ChannelID, host.Errorf(host.ENOTFOUND, "channel %s not found", m.ChannelID))
	}
	return nil
}

// ShippingMappings implements host.CatalogStore.
func (d *DB) ShippingMappings(ctx context.Context, channelID string) (*host.ShippingMappings, error) {
	var data []byte
	var known bool
	err := d.q.QueryRow(ctx, `SELECT true, (SELECT data FROM shipping_mappings WHERE channel_id = c.id) FROM channels c WHERE c.id = $1`, channelID).Scan(&known, &data)
	if err != nil {
		return nil, notFound(err, "channel %s not found", channelID)
	}
	m := &host.ShippingMappings{ChannelID: channelID, Methods: map[string]string{}}
	if data != nil {
		if err := jsonUnmarshal(data, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

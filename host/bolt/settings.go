package bolt

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

func settings(tx *bolt.Tx) (host.Settings, error) { return settingsWith(tx, getJSON[host.Settings]) }

// settingsWith reads the settings with get (getJSON, or a decodedCache's
// get): the defaults when none are stored.
func settingsWith(tx *bolt.Tx, get func(b *bolt.Bucket, key, notFound string) (*host.Settings, error)) (host.Settings, error) {
	s, err := get(tx.Bucket(bucketSettings), string(keySettings), "")
	if host.ErrorCode(err) == host.ENOTFOUND {
		return host.DefaultSettings(), nil
	}
	if err != nil {
		return host.Settings{}, err
	}
	return *s, nil
}

// Settings implements host.CatalogStore.
func (d *DB) Settings(_ context.Context) (s host.Settings, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		s, err = settings(tx)
		return err
	})
	return s, err
}

// UpdateSettings implements host.CatalogStore.
func (d *DB) UpdateSettings(ctx context.Context, fn func(*host.Settings) error) (host.Settings, error) {
	var out host.Settings
	err := d.update(ctx, func(tx *bolt.Tx) error {
		s, err := settings(tx)
		if err != nil {
			return err
		}
		if err := fn(&s); err != nil {
			return err
		}
		out = s
		return putJSON(tx.Bucket(bucketSettings), string(keySettings), s)
	})
	return out, err
}

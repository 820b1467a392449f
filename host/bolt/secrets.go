package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
)

// UseSecrets sets the key secrets are sealed with (nil: none) and checks
// the stored secrets against it, before the store is used:
//
//   - with no key, a database holding any secret is refused;
//   - with a key, every sealed secret must open with it, and secrets
//     stored in plain text by an older version are sealed now.
func (d *DB) UseSecrets(ctx context.Context, box *secrets.Box) error {
	d.box = box
	var audit secrets.Audit
	err := d.update(ctx, func(tx *bolt.Tx) error {
		audit = secrets.Audit{}
		check := func(bucket []byte, key []byte, fields []secrets.Field, save func() ([]byte, error)) error {
			if !box.Check(&audit, fields) {
				return nil
			}
			data, err := save()
			if err != nil {
				return err
			}
			return tx.Bucket(bucket).Put(key, data)
		}
		err := tx.Bucket(bucketChannels).ForEach(func(k, v []byte) error {
			ch := new(host.Channel)
			if err := json.Unmarshal(v, ch); err != nil {
				return err
			}
			return check(bucketChannels, k, secrets.ChannelFields(ch), func() ([]byte, error) { return json.Marshal(ch) })
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDestinations).ForEach(func(k, v []byte) error {
			dst := new(host.Destination)
			if err := json.Unmarshal(v, dst); err != nil {
				return err
			}
			return check(bucketDestinations, k, secrets.DestinationFields(dst), func() ([]byte, error) { return json.Marshal(dst) })
		})
	})
	if err != nil {
		return fmt.Errorf("checking stored secrets: %w", err)
	}
	if err := audit.Err(box); err != nil {
		return err
	}
	if sealedNow := audit.SealedNow; sealedNow > 0 {
		// bbolt reuses freed pages but does not wipe them, and a backup
		// copies them too.
		d.log.Warn("sealed secrets an older version stored in plain text; their old plain copies stay in free pages of the database file until those pages are reused: rotate those secrets", "count", sealedNow)
	}
	return nil
}

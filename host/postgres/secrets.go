package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
)

// UseSecrets sets the key secrets are sealed with (nil: none) and checks
// the stored secrets against it, before the store is used, as bolt's
// does: with no key, a database holding any secret is refused; with a
// key, every sealed secret must open with it.
func (d *DB) UseSecrets(ctx context.Context, box *secrets.Box) error {
	d.box = box
	var audit secrets.Audit
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		audit = secrets.Audit{}
		check := func(table, keyCol string, decode func([]byte) (string, []secrets.Field, func() (string, error), error)) error {
			rows, err := tx.Query(ctx, `SELECT data FROM `+table+` FOR UPDATE`)
			if err != nil {
				return err
			}
			var updates [][2]string
			var data []byte
			_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
				key, fields, save, err := decode(data)
				if err != nil {
					return err
				}
				if box.Check(&audit, fields) {
					text, err := save()
					if err != nil {
						return err
					}
					updates = append(updates, [2]string{key, text})
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, u := range updates {
				if _, err := tx.Exec(ctx, `UPDATE `+table+` SET data = $2::jsonb WHERE `+keyCol+` = $1`, u[0], u[1]); err != nil {
					return err
				}
			}
			return nil
		}
		err := check("channels", "id", func(data []byte) (string, []secrets.Field, func() (string, error), error) {
			ch := new(host.Channel)
			err := json.Unmarshal(data, ch)
			return ch.ID, secrets.ChannelFields(ch), func() (string, error) { return jsonText(ch) }, err
		})
		if err != nil {
			return err
		}
		return check("alert_destinations", "name", func(data []byte) (string, []secrets.Field, func() (string, error), error) {
			dst := new(host.Destination)
			err := json.Unmarshal(data, dst)
			return dst.Name, secrets.DestinationFields(dst), func() (string, error) { return jsonText(dst) }, err
		})
	})
	if err != nil {
		return fmt.Errorf("checking stored secrets: %w", err)
	}
	if err := audit.Err(box); err != nil {
		return err
	}
	if audit.SealedNow > 0 {
		d.log.Warn("sealed secrets stored in plain text: rotate them, as the database's WAL and backups may keep the old values", "count", audit.SealedNow)
	}
	return nil
}

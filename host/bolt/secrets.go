package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/sdk"
)

// secretValue is one secret of a channel or destination: the place it is
// sealed for, the API field that holds it, and access to its value.
type secretValue struct {
	place, field string
	get          func() string
	set          func(string)
}

// channelSecrets lists the values of a channel's secret config fields.
// The channel's Config must be its own (cloned) to be set.
func channelSecrets(ch *host.Channel) []secretValue {
	var out []secretValue
	for _, name := range ch.SecretFields {
		if s, ok := ch.Config[name].(string); ok && s != "" {
			out = append(out, secretValue{
				place: "channel/" + ch.ID + "/" + name, field: "config." + name,
				get: func() string { return ch.Config[name].(string) },
				set: func(v string) { ch.Config[name] = v },
			})
		}
	}
	return out
}

// destinationSecrets lists a destination's signing secret and password.
func destinationSecrets(dst *host.Destination) []secretValue {
	var out []secretValue
	if dst.Secret != "" {
		out = append(out, secretValue{"destination/" + dst.Name + "/secret", "secret", func() string { return dst.Secret }, func(v string) { dst.Secret = v }})
	}
	if dst.Password != "" {
		out = append(out, secretValue{"destination/" + dst.Name + "/password", "password", func() string { return dst.Password }, func(v string) { dst.Password = v }})
	}
	return out
}

// errNoKey is why a secret cannot be stored on a host without a key.
const errNoKey = "secrets are stored encrypted: start the host with --secret-key-file or ORDERGATE_SECRET_KEY to keep one"

// seal replaces the values with their sealed form. Values come from
// callers, so each is sealed, even one that looks sealed already. Without a
// key a secret cannot be stored: that is invalid input naming each field.
func (d *DB) seal(values []secretValue) error {
	var missing []sdk.FieldError
	for _, v := range values {
		if d.box == nil {
			missing = append(missing, sdk.FieldError{Field: v.field, Detail: errNoKey})
			continue
		}
		v.set(d.box.Seal(v.get(), v.place))
	}
	if len(missing) > 0 {
		return host.InvalidFields("this host keeps no secrets", missing)
	}
	return nil
}

// open replaces sealed values with their plain form.
func (d *DB) open(values []secretValue) error {
	for _, v := range values {
		if !secrets.IsSealed(v.get()) {
			continue
		}
		if d.box == nil {
			return fmt.Errorf("%s is sealed and this host has no secret key", v.place)
		}
		plain, err := d.box.Open(v.get(), v.place)
		if err != nil {
			return err
		}
		v.set(plain)
	}
	return nil
}

func sealedChannel(d *DB, ch *host.Channel) (*host.Channel, error) {
	// Only text can be sealed: a secret setting of another type would be
	// stored as it is, so it is refused.
	var bad []sdk.FieldError
	for _, name := range ch.SecretFields {
		if v, ok := ch.Config[name]; ok && v != nil {
			if _, isString := v.(string); !isString {
				bad = append(bad, sdk.FieldError{Field: "config." + name, Detail: "is a secret setting and must be a string"})
			}
		}
	}
	if len(bad) > 0 {
		return nil, host.InvalidFields("the channel is not valid", bad)
	}
	out := *ch
	out.Config = maps.Clone(ch.Config)
	return &out, d.seal(channelSecrets(&out))
}

func sealedDestination(d *DB, dst *host.Destination) (*host.Destination, error) {
	out := *dst
	return &out, d.seal(destinationSecrets(&out))
}

// UseSecrets sets the key secrets are sealed with (nil: none) and checks
// the stored secrets against it, before the store is used:
//
//   - with no key, a database holding any secret is refused;
//   - with a key, every sealed secret must open with it, and secrets
//     stored in plain text by an older version are sealed now.
func (d *DB) UseSecrets(ctx context.Context, box *secrets.Box) error {
	d.box = box
	var problems []string
	sealedNow := 0
	err := d.update(ctx, func(tx *bolt.Tx) error {
		problems, sealedNow = nil, 0
		check := func(bucket []byte, key []byte, values []secretValue, save func() ([]byte, error)) error {
			changed := false
			for _, v := range values {
				switch {
				case box == nil:
					problems = append(problems, v.place)
				case secrets.IsSealed(v.get()):
					if _, err := box.Open(v.get(), v.place); err != nil {
						problems = append(problems, err.Error())
					}
				default:
					v.set(box.Seal(v.get(), v.place))
					changed = true
					sealedNow++
				}
			}
			if !changed {
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
			return check(bucketChannels, k, channelSecrets(ch), func() ([]byte, error) { return json.Marshal(ch) })
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDestinations).ForEach(func(k, v []byte) error {
			dst := new(host.Destination)
			if err := json.Unmarshal(v, dst); err != nil {
				return err
			}
			return check(bucketDestinations, k, destinationSecrets(dst), func() ([]byte, error) { return json.Marshal(dst) })
		})
	})
	switch {
	case err != nil:
		return fmt.Errorf("checking stored secrets: %w", err)
	case len(problems) > 0 && box == nil:
		return fmt.Errorf("the database holds %d secrets (%s) and no secret key was given: start with --secret-key-file or ORDERGATE_SECRET_KEY", len(problems), strings.Join(problems, ", "))
	case len(problems) > 0:
		return errors.New("stored secrets do not open with the secret key given: " + strings.Join(problems, "; "))
	}
	if sealedNow > 0 {
		// bbolt reuses freed pages but does not wipe them, and a backup
		// copies them too.
		d.log.Warn("sealed secrets an older version stored in plain text; their old plain copies stay in free pages of the database file until those pages are reused: rotate those secrets", "count", sealedNow)
	}
	return nil
}

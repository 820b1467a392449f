package secrets

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// What every store does with the secrets of the records it keeps: channel
// configuration fields the connector marks secret, and destinations'
// signing secrets and passwords, sealed at rest and opened on read.

// Field is one secret of a channel or destination: the place it is sealed
// for, the API field that holds it, and access to its value.
type Field struct {
	Place, Name string
	Get         func() string
	Set         func(string)
}

// ChannelFields lists the values of a channel's secret config fields.
// The channel's Config must be its own (cloned) to be set.
func ChannelFields(ch *host.Channel) []Field {
	var out []Field
	for _, name := range ch.SecretFields {
		if s, ok := ch.Config[name].(string); ok && s != "" {
			out = append(out, Field{
				Place: "channel/" + ch.ID + "/" + name, Name: "config." + name,
				Get: func() string { return ch.Config[name].(string) },
				Set: func(v string) { ch.Config[name] = v },
			})
		}
	}
	return out
}

// DestinationFields lists the secrets of an alert destination.
func DestinationFields(dst *host.Destination) []Field {
	var out []Field
	if dst.Secret != "" {
		out = append(out, Field{"destination/" + dst.Name + "/secret", "secret", func() string { return dst.Secret }, func(v string) { dst.Secret = v }})
	}
	if dst.Password != "" {
		out = append(out, Field{"destination/" + dst.Name + "/password", "password", func() string { return dst.Password }, func(v string) { dst.Password = v }})
	}
	return out
}

const errNoKey = "secrets are stored encrypted: start the host with --secret-key-file or ORDERGATE_SECRET_KEY to keep one"

// SealFields seals each value in place. A host without a key (b nil)
// keeps no secrets: the fields are refused as invalid input.
func (b *Box) SealFields(fields []Field) error {
	var missing []sdk.FieldError
	for _, f := range fields {
		if b == nil {
			missing = append(missing, sdk.FieldError{Field: f.Name, Detail: errNoKey})
			continue
		}
		f.Set(b.Seal(f.Get(), f.Place))
	}
	if len(missing) > 0 {
		return host.InvalidFields("this host keeps no secrets", missing)
	}
	return nil
}

// OpenFields opens each sealed value in place.
func (b *Box) OpenFields(fields []Field) error {
	for _, f := range fields {
		if !IsSealed(f.Get()) {
			continue
		}
		if b == nil {
			return fmt.Errorf("%s is sealed and this host has no secret key", f.Place)
		}
		plain, err := b.Open(f.Get(), f.Place)
		if err != nil {
			return err
		}
		f.Set(plain)
	}
	return nil
}

// SealedChannel returns a copy of ch to store, its secrets sealed.
func (b *Box) SealedChannel(ch *host.Channel) (*host.Channel, error) {
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
	return &out, b.SealFields(ChannelFields(&out))
}

// SealedDestination returns a copy of dst to store, its secrets sealed.
func (b *Box) SealedDestination(dst *host.Destination) (*host.Destination, error) {
	out := *dst
	return &out, b.SealFields(DestinationFields(&out))
}

// Audit is what a store learns checking its stored secrets against the
// key it was given (at start).
type Audit struct {
	// Problems are the secrets that do not open (or, without a key, every
	// secret stored).
	Problems []string
	// SealedNow counts plain values (of an older version) sealed now.
	SealedNow int
}

// Check checks one record's secrets: sealed ones must open with b, and
// plain ones are sealed (it reports whether any was, so the record must
// be stored again).
func (b *Box) Check(a *Audit, fields []Field) (changed bool) {
	for _, f := range fields {
		switch {
		case b == nil:
			a.Problems = append(a.Problems, f.Place)
		case IsSealed(f.Get()):
			if _, err := b.Open(f.Get(), f.Place); err != nil {
				a.Problems = append(a.Problems, err.Error())
			}
		default:
			f.Set(b.Seal(f.Get(), f.Place))
			changed = true
			a.SealedNow++
		}
	}
	return changed
}

// Err is the audit's verdict: nil when every secret opens.
func (a *Audit) Err(b *Box) error {
	switch {
	case len(a.Problems) > 0 && b == nil:
		return fmt.Errorf("the database holds %d secrets (%s) and no secret key was given: start with --secret-key-file or ORDERGATE_SECRET_KEY", len(a.Problems), strings.Join(a.Problems, ", "))
	case len(a.Problems) > 0:
		return errors.New("stored secrets do not open with the secret key given: " + strings.Join(a.Problems, "; "))
	}
	return nil
}

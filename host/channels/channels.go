// Package channels is the channel service: it creates, changes and
// deletes channels for a caller allowed to, checks a b2c channel's
// configuration against its connector's description, and tells the
// scheduler. Every change is one atomic update of the store.
package channels

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Store is what the service reads and writes.
type Store interface {
	host.ChannelStore
}

// Connectors describe the connectors channels name; *connectors.Manager
// is the real one.
type Connectors interface {
	Describe(ctx context.Context, name string) (sdk.Description, error)
}

// Scheduler is told of channels' changes; *importer.Importer is the real
// one.
type Scheduler interface {
	// Reschedule makes the channel due at once (its schedule or
	// configuration changed, or it was deleted).
	Reschedule(channelID string)
	// Running returns the channel's running import, or nil.
	Running(channelID string) *host.Run
}

// Service is the channel service.
type Service struct {
	store      Store
	connectors Connectors // nil on a host that runs no connectors
	scheduler  Scheduler  // nil on a host that imports nothing
	now        func() time.Time
}

// New returns the service. connectors and scheduler may be nil; now is
// the host's clock.
func New(store Store, connectors Connectors, scheduler Scheduler, now func() time.Time) *Service {
	return &Service{store: store, connectors: connectors, scheduler: scheduler, now: now}
}

// Create creates a channel.
func (s *Service) Create(ctx context.Context, req *host.ChannelRequest) (*host.Channel, error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return nil, err
	}
	ch, bad := req.Channel(s.now())
	if len(bad) > 0 {
		return nil, host.InvalidFields("the channel is not valid", bad)
	}
	desc, err := s.describe(ctx, ch)
	if err != nil {
		return nil, err
	}
	if err := checkConfig(ch, desc); err != nil {
		return nil, err
	}
	if err := s.store.CreateChannel(ctx, ch); err != nil {
		return nil, err
	}
	return ch, nil
}

// errConnectorChanged asks Update to try again: another change named
// another connector while this one was checked. A domain error, so it
// fails this update alone (see host.Store).
var errConnectorChanged = host.Errorf(host.ECONFLICT, "the channel's connector changed while the change was checked; try again")

// Update changes a channel as the patch says. The connector's description
// is fetched first (it may start the connector's process); the patch is
// then applied to the channel as stored, in one atomic update, and
// checked against that description there, so a concurrent change is
// never lost.
func (s *Service) Update(ctx context.Context, id string, patch *host.ChannelPatch) (*host.Channel, error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.store.Channel(ctx, id)
		if err != nil {
			return nil, err
		}
		if bad := patch.Apply(cur); len(bad) > 0 {
			return nil, host.InvalidFields("the change is not valid", bad)
		}
		desc, err := s.describe(ctx, cur)
		if err != nil {
			return nil, err
		}
		updated, err := s.store.UpdateChannel(ctx, id, func(ch *host.Channel) error {
			if bad := patch.Apply(ch); len(bad) > 0 {
				return host.InvalidFields("the change is not valid", bad)
			}
			if ch.Connector != cur.Connector {
				return errConnectorChanged
			}
			if err := checkConfig(ch, desc); err != nil {
				return err
			}
			ch.UpdatedAt = s.now()
			return nil
		})
		if errors.Is(err, errConnectorChanged) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if s.scheduler != nil {
			s.scheduler.Reschedule(id)
		}
		return updated, nil
	}
}

// Delete deletes a channel's configuration, cursor and runs; its orders
// stay. A channel that is importing cannot be deleted.
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return err
	}
	if s.scheduler != nil && s.scheduler.Running(id) != nil {
		return host.Errorf(host.ECONFLICT, "channel %s is importing; disable it and wait for the import to end", id)
	}
	if err := s.store.DeleteChannel(ctx, id); err != nil {
		return err
	}
	if s.scheduler != nil {
		s.scheduler.Reschedule(id)
	}
	return nil
}

// describe returns the description of the channel's connector (the zero
// description for a channel without one), or what is wrong with the
// channel's connector.
func (s *Service) describe(ctx context.Context, ch *host.Channel) (sdk.Description, error) {
	if ch.Connector == "" {
		if ch.Kind == host.ChannelB2C && (len(ch.Config) > 0 || ch.Enabled) {
			return sdk.Description{}, host.InvalidFields("the channel is not valid", []sdk.FieldError{{Field: "connector", Detail: "is required for a b2c channel that is imported"}})
		}
		return sdk.Description{}, nil
	}
	if ch.Kind != host.ChannelB2C {
		return sdk.Description{}, host.InvalidFields("the channel is not valid", []sdk.FieldError{{Field: "connector", Detail: "only b2c channels have a connector"}})
	}
	if s.connectors == nil {
		return sdk.Description{}, host.Errorf(host.EUNAVAILABLE, "this host runs no connectors")
	}
	desc, err := s.connectors.Describe(ctx, ch.Connector)
	if err != nil {
		var he *host.Error
		if errors.As(err, &he) && (he.Code == host.EINVALID || he.Code == host.EFORBIDDEN) {
			return desc, &host.Error{Code: host.EINVALID, Message: "the connector cannot be used", Fields: []sdk.FieldError{{Field: "connector", Detail: he.Message}}}
		}
		return desc, err
	}
	return desc, nil
}

// checkConfig checks a b2c channel's configuration against its
// connector's description and records its secret fields; a channel
// without a connector has nothing to check.
func checkConfig(ch *host.Channel, desc sdk.Description) error {
	if ch.Connector == "" {
		return nil
	}
	if _, err := desc.Check(ch.Config); err != nil {
		var se *sdk.Error
		if errors.As(err, &se) {
			return host.InvalidFields(fmt.Sprintf("the configuration does not suit connector %s %s", desc.Name, desc.Version), ConfigFields(se.Fields))
		}
		return err
	}
	ch.SecretFields = nil
	for _, f := range desc.Config {
		if f.Secret {
			ch.SecretFields = append(ch.SecretFields, f.Name)
		}
	}
	return nil
}

// ConfigFields names a connector's configuration errors as the channel's
// fields ("config.page_size"), the same wherever they are shown.
func ConfigFields(fields []sdk.FieldError) []sdk.FieldError {
	out := make([]sdk.FieldError, len(fields))
	for i, f := range fields {
		name := f.Field
		if len(name) < 7 || name[:7] != "config." {
			name = "config." + name
		}
		out[i] = sdk.FieldError{Field: name, Detail: f.Detail}
	}
	return out
}

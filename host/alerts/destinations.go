package alerts

import (
	"context"
	"time"

	"github.com/ordergate/ordergate/host"
)

// Destinations is the service of alert destinations: create, change,
// delete and test them, for a caller allowed to.
type Destinations struct {
	store  host.AlertStore
	sender *Dispatcher
	now    func() time.Time
}

// NewDestinations returns the service; sender sends test alerts (a
// dispatcher need not run for that); now is the host's clock.
func NewDestinations(store host.AlertStore, sender *Dispatcher, now func() time.Time) *Destinations {
	return &Destinations{store: store, sender: sender, now: now}
}

// Create creates a destination. A webhook asked for without a secret
// gets a new one, returned as generated: the one time it is shown.
func (s *Destinations) Create(ctx context.Context, req *host.DestinationRequest) (d *host.Destination, generated string, err error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return nil, "", err
	}
	d, isNew, bad := req.Destination(s.now())
	if len(bad) > 0 {
		return nil, "", host.InvalidFields("the destination is not valid", bad)
	}
	if err := s.store.CreateDestination(ctx, d); err != nil {
		return nil, "", err
	}
	if isNew {
		generated = d.Secret
	}
	return d, generated, nil
}

// Update changes a destination as the patch says, applied to the
// destination as stored.
func (s *Destinations) Update(ctx context.Context, name string, patch *host.DestinationPatch) (*host.Destination, error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.UpdateDestination(ctx, name, func(d *host.Destination) error {
		if bad := patch.Apply(d); len(bad) > 0 {
			return host.InvalidFields("the destination is not valid", bad)
		}
		d.UpdatedAt = s.now()
		return nil
	})
}

// Delete deletes a destination.
func (s *Destinations) Delete(ctx context.Context, name string) error {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return err
	}
	return s.store.DeleteDestination(ctx, name)
}

// Test sends a test alert to the destination now and says what happened.
func (s *Destinations) Test(ctx context.Context, name string) (TestResult, error) {
	if _, err := host.Authorize(ctx, host.RoleAdmin); err != nil {
		return TestResult{}, err
	}
	d, err := s.store.Destination(ctx, name)
	if err != nil {
		return TestResult{}, err
	}
	return s.sender.SendTest(ctx, d), nil
}

package alerts

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
)

// Settings gives the settings in force; the store is the real one.
type Settings interface {
	Settings(ctx context.Context) (host.Settings, error)
}

// Ops raises the host's operational alerts (the host.OpsAlert kinds) to
// the destination the settings name. Each is raised once per key.
type Ops struct {
	store    host.AlertStore
	settings Settings
	log      hclog.Logger
	wake     *Wake
	now      func() time.Time
}

// NewOps returns the raiser; wake (may be nil) is the dispatcher's
// signal, sent when an alert is queued.
func NewOps(store host.AlertStore, settings Settings, log hclog.Logger, wake *Wake) *Ops {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Ops{store: store, settings: settings, log: log.Named("ops-alerts"), wake: wake, now: func() time.Time { return time.Now().UTC() }}
}

// Config returns the operational alert settings in force.
func (o *Ops) Config(ctx context.Context) host.OpsAlerts {
	s, err := o.settings.Settings(ctx)
	if err != nil {
		return host.DefaultSettings().OpsAlerts
	}
	return s.OpsAlerts
}

// Raise queues an operational alert unless one with its key was raised.
func (o *Ops) Raise(ctx context.Context, a host.OpsAlert) {
	to := o.Config(ctx).To
	if to == "" {
		return
	}
	d := host.OpsDelivery(to, a, o.now())
	if err := o.store.Enqueue(ctx, d); err != nil {
		o.log.Error("raising an operational alert", "rule", a.Rule(), "error", err)
		return
	}
	o.log.Warn("operational alert", "rule", a.Rule(), "to", to, "message", d.Alert.Message)
	o.wake.Notify()
}

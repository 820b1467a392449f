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

// OpsStore is where operational alerts go: the outbox and the feed.
type OpsStore interface {
	host.AlertStore
	host.EventStore
}

// Ops raises the host's operational alerts (the host.OpsAlert kinds) to
// the destination the settings name, and as events of the feed ("ops."
// and the kind). Each is raised once per key.
type Ops struct {
	store    OpsStore
	settings Settings
	log      hclog.Logger
	wake     *Wake
	now      func() time.Time
}

// NewOps returns the raiser; wake (may be nil) is the dispatcher's
// signal, sent when an alert is queued.
func NewOps(store OpsStore, settings Settings, log hclog.Logger, wake *Wake) *Ops {
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

// Raise queues an operational alert, and appends its event, unless one
// with its key was raised.
func (o *Ops) Raise(ctx context.Context, a host.OpsAlert) {
	now := o.now()
	var ds []*host.Delivery
	to := o.Config(ctx).To
	if to != "" {
		ds = append(ds, host.OpsDelivery(to, a, now))
	}
	raised, err := o.store.AppendEvent(ctx, host.OpsEvent(a, now), ds...)
	if err != nil {
		o.log.Error("raising an operational alert", "rule", a.Rule(), "error", err)
		return
	}
	if raised {
		o.log.Warn("operational alert", "rule", a.Rule(), "to", to, "message", a.Message())
	}
	o.wake.Notify()
}

package console

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
)

// DeliveriesShown is how many deliveries of each status the alerts page
// lists.
const DeliveriesShown = 50

// outboxRow is one destination's undelivered alerts, by state.
type outboxRow struct {
	Destination             string
	Pending, Retrying, Dead int64
}

type alertsView struct {
	Outbox      []outboxRow
	Destination string
	Failed      []*host.Delivery
	Pending     []*host.Delivery
	Notice      string
}

func (c *Console) alertsPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderAlerts(w, r, s, "")
}

func (c *Console) renderAlerts(w http.ResponseWriter, r *http.Request, s *session, notice string) {
	ctx := r.Context()
	counts, err := c.cfg.Store.Counts(ctx)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	v := alertsView{Destination: r.URL.Query().Get("destination"), Notice: notice}
	if v.Destination == "" {
		v.Destination = r.PostForm.Get("destination")
	}
	for dest, by := range counts.Outbox {
		v.Outbox = append(v.Outbox, outboxRow{Destination: dest, Pending: by[host.OutboxPending], Retrying: by[host.OutboxRetrying], Dead: by[host.OutboxDead]})
	}
	slices.SortFunc(v.Outbox, func(a, b outboxRow) int {
		if a.Destination < b.Destination {
			return -1
		}
		return 1
	})
	for _, st := range []string{host.DeliveryFailed, host.DeliveryPending} {
		list, _, err := c.cfg.Store.ListDeliveries(ctx, host.DeliveryFilter{Status: st, Destination: v.Destination, Limit: DeliveriesShown})
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		if st == host.DeliveryFailed {
			v.Failed = list
		} else {
			v.Pending = list
		}
	}
	c.render(w, r, s, http.StatusOK, "alerts", "Alerts and events", v)
}

func (c *Console) notify() {
	if c.cfg.Notify != nil {
		c.cfg.Notify()
	}
}

// redeliverAlerts queues every dead-lettered delivery again, of one
// destination or of all.
func (c *Console) redeliverAlerts(w http.ResponseWriter, r *http.Request, s *session) {
	n, err := alerts.RedeliverMatching(r.Context(), c.cfg.Store, host.DeliveryFilter{Status: host.DeliveryFailed, Destination: r.PostForm.Get("destination")})
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if n > 0 {
		c.notify()
	}
	c.renderAlerts(w, r, s, "Queued "+strconv.Itoa(n)+" dead-lettered deliveries again.")
}

func (c *Console) redeliverAlert(w http.ResponseWriter, r *http.Request, s *session) {
	if err := alerts.Redeliver(r.Context(), c.cfg.Store, r.PathValue("id")); err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.notify()
	c.renderAlerts(w, r, s, "Queued delivery "+r.PathValue("id")+" again.")
}

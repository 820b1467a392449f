package console

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/sdk"
)

// QueuePageSize is how many held orders a queue page shows.
const QueuePageSize = 50

// ages are the queue's age filter: held longer than.
var ages = []struct{ Value, Label string }{
	{"", "any age"}, {"1h", "held over 1 hour"}, {"24h", "held over 1 day"}, {"72h", "held over 3 days"}, {"168h", "held over 7 days"},
}

// queueFilter is the queue's query string: what a bookmark keeps.
type queueFilter struct {
	Reason, Channel, Tag, Age, Q string
}

func queueFilterOf(v url.Values) queueFilter {
	return queueFilter{Reason: v.Get("reason"), Channel: v.Get("channel"), Tag: v.Get("tag"), Age: v.Get("age"), Q: strings.TrimSpace(v.Get("q"))}
}

// values writes the filter as a query string, leaving out empty fields.
func (f queueFilter) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"reason", f.Reason}, {"channel", f.Channel}, {"tag", f.Tag}, {"age", f.Age}, {"q", f.Q}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// Link is the queue's link with the filter, for links that keep it. It
// is a template.URL because url.Values.Encode escapes every value and
// the link is always a path of this host ("/?..."): html/template would
// otherwise escape the query's own '=' and '&'.
func (f queueFilter) Link() template.URL { return queueLink(f.values()) }

// With is the queue's link with one field of the filter changed.
func (f queueFilter) With(field, value string) template.URL {
	v := f.values()
	if value == "" {
		v.Del(field)
	} else {
		v.Set(field, value)
	}
	return queueLink(v)
}

// Next is the link of the page after the cursor.
func (f queueFilter) Next(cursor string) template.URL {
	v := f.values()
	v.Set("cursor", cursor)
	return queueLink(v)
}

func queueLink(v url.Values) template.URL {
	if len(v) == 0 {
		return "/"
	}
	return template.URL("/?" + v.Encode())
}

// orderFilter is the store's filter of the queue: orders on hold, oldest
// hold first. The search box finds an order number (#1203 or 1203), a
// customer's email (it has an @) or a customer's name.
func (f queueFilter) orderFilter(now time.Time) (host.OrderFilter, []string) {
	of := host.OrderFilter{Status: string(sdk.StatusOnHold), Sort: host.SortHeldAt, HoldReason: f.Reason, ChannelID: f.Channel, Tag: f.Tag}
	var bad []string
	if f.Reason != "" && !slices.Contains(host.HoldReasons, f.Reason) {
		bad = append(bad, "reason: "+f.Reason+" is not a hold reason")
	}
	if f.Age != "" {
		d, err := time.ParseDuration(f.Age)
		if err != nil || d <= 0 {
			bad = append(bad, "age: must be a duration such as 24h")
		} else {
			of.HeldBefore = now.Add(-d)
		}
	}
	// A search finds few orders: it is listed by its own index (number
	// or customer), not by walking the queue in held_at order, and the
	// page sorts what it finds.
	if f.Q != "" {
		of.Sort = ""
	}
	switch q := f.Q; {
	case q == "":
	case strings.Contains(q, "@"):
		of.CustomerEmail = host.NormalizeEmail(q)
	case strings.HasPrefix(q, "#"):
		of.Number = q
	case isDigits(q):
		of.Number = "#" + q
	default:
		of.CustomerName = host.NormalizeName(q)
	}
	return of, bad
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// reasonCount is one hold reason's count at the top of the queue.
type reasonCount struct {
	Reason string
	Count  int64
}

// queueView is the queue page's data.
type queueView struct {
	Filter     queueFilter
	Held       int64
	Reasons    []reasonCount
	Channels   []*host.Channel
	Ages       any
	Orders     []queueRow
	NextCursor string
	First      bool
}

// queueRow is one order of the queue.
type queueRow struct {
	*host.Record
	HeldAt *time.Time
}

// heldCounts reads the counts of held orders per reason: the store keeps
// them as counters, so the cost does not grow with the queue.
func (c *Console) heldCounts(ctx context.Context) (int64, []reasonCount, error) {
	counts, err := c.cfg.Store.Counts(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := make([]reasonCount, 0, len(host.HoldReasons))
	for _, reason := range host.HoldReasons {
		out = append(out, reasonCount{Reason: reason, Count: counts.Held[reason]})
	}
	return counts.Orders[sdk.StatusOnHold], out, nil
}

func (c *Console) queuePage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	f := queueFilterOf(r.URL.Query())
	of, bad := f.orderFilter(c.cfg.Now())
	if len(bad) > 0 {
		c.renderError(w, r, s, http.StatusUnprocessableEntity, "The queue's filter is not valid.", bad...)
		return
	}
	// The queue shows the basic view, which a store can read without the
	// orders' records.
	of.After, of.Limit, of.Basic = r.URL.Query().Get("cursor"), QueuePageSize, true
	held, reasons, err := c.heldCounts(ctx)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	list, next, err := c.cfg.Store.ListOrders(ctx, of)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	chans, err := c.cfg.Store.Channels(ctx)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	v := queueView{Filter: f, Held: held, Reasons: reasons, Channels: chans, Ages: ages, NextCursor: next, First: of.After == ""}
	for _, rec := range list {
		v.Orders = append(v.Orders, queueRow{Record: rec.Basic(), HeldAt: rec.HeldAt()})
	}
	if of.Sort == "" { // a search's page, oldest hold first
		slices.SortStableFunc(v.Orders, func(a, b queueRow) int {
			if a.HeldAt == nil || b.HeldAt == nil {
				return 0
			}
			return a.HeldAt.Compare(*b.HeldAt)
		})
	}
	c.render(w, r, s, http.StatusOK, "queue", "Hold queue", v)
}

// countsJSON serves the queue's counts to the page's script, which
// refreshes them.
func (c *Console) countsJSON(w http.ResponseWriter, r *http.Request, s *session) {
	held, reasons, err := c.heldCounts(r.Context())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	out := map[string]any{"on_hold": held}
	by := map[string]int64{}
	for _, rc := range reasons {
		by[rc.Reason] = rc.Count
	}
	out["by_reason"] = by
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// bulkView is the confirmation page of a bulk action (its dry run) and
// the page of its outcome.
type bulkView struct {
	Action  string
	Verb    string
	IDs     []string
	Scope   string
	Filter  queueFilter
	Note    string
	Result  orders.BulkResult
	Done    bool
	Back    template.URL
	Skipped []orders.BulkSkip
}

var bulkVerbs = map[string]string{"release": "release", "cancel": "cancel", "reevaluate": "re-evaluate"}

// bulk runs a bulk action of the queue: on the selected orders, or on
// every order the queue's filter selects (scope=filter). The first post
// is a dry run that shows how many orders would change ("this will
// release 37 orders"); the action runs once that page is confirmed.
func (c *Console) bulk(w http.ResponseWriter, r *http.Request, s *session) {
	action := r.PostForm.Get("action")
	verb, ok := bulkVerbs[action]
	if !ok {
		c.renderError(w, r, s, http.StatusUnprocessableEntity, "Choose an action.", "action: must be release, cancel or reevaluate")
		return
	}
	f := queueFilter{Reason: r.PostForm.Get("reason"), Channel: r.PostForm.Get("channel"), Tag: r.PostForm.Get("tag"), Age: r.PostForm.Get("age"), Q: r.PostForm.Get("q")}
	v := bulkView{Action: action, Verb: verb, IDs: r.PostForm["id"], Scope: r.PostForm.Get("scope"), Filter: f,
		Note: strings.TrimSpace(r.PostForm.Get("note")), Back: f.Link()}
	var fields []string
	if v.Note == "" {
		fields = append(fields, "note: a note is required: say why, for the orders' timelines")
	}
	b := orders.Bulk{IDs: v.IDs, Note: v.Note, DryRun: r.PostForm.Get("confirm") != "yes"}
	if v.Scope == "filter" {
		of, bad := f.orderFilter(c.cfg.Now())
		fields = append(fields, bad...)
		b.Filter, b.IDs, v.IDs = &of, nil, nil
	} else if len(v.IDs) == 0 {
		fields = append(fields, "id: select at least one order")
	}
	if len(fields) > 0 {
		c.renderError(w, r, s, http.StatusUnprocessableEntity, "The bulk action was not run.", fields...)
		return
	}
	run := map[string]func(context.Context, orders.Bulk) (orders.BulkResult, error){
		"release": c.cfg.Orders.BulkRelease, "cancel": c.cfg.Orders.BulkCancel, "reevaluate": c.cfg.Orders.BulkReevaluate,
	}[action]
	res, err := run(r.Context(), b)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	v.Result, v.Done, v.Skipped = res, !b.DryRun, res.Skipped
	c.render(w, r, s, http.StatusOK, "bulk", "Bulk "+verb, v)
}

// pluralOrders is "1 order" or "n orders".
func pluralOrders(n int) string {
	if n == 1 {
		return "1 order"
	}
	return strconv.Itoa(n) + " orders"
}

package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/sdk"
)

// MaxBatch is the most orders one batch request may carry.
const MaxBatch = 1000

// OrderList is one page of orders.
type OrderList struct {
	Orders     []*sdk.Order `json:"orders"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// BatchRequest carries up to MaxBatch orders.
type BatchRequest struct {
	Orders []sdk.Order `json:"orders"`
}

// BatchResponse has one result per order, in request order.
type BatchResponse struct {
	Results  []BatchResult `json:"results"`
	Created  int           `json:"created"`
	Existing int           `json:"existing"`
	Rejected int           `json:"rejected"`
}

// BatchResult is the outcome for one order of a batch.
type BatchResult struct {
	Index int `json:"index"`
	// Outcome is created, existing or rejected.
	Outcome    string     `json:"outcome"`
	ID         string     `json:"id,omitempty"`
	ExternalID string     `json:"external_id,omitempty"`
	Status     sdk.Status `json:"status,omitempty"`
	Problem    *Problem   `json:"problem,omitempty"`
}

// ReleaseRequest is the optional body of a release.
type ReleaseRequest struct {
	Note string `json:"note,omitempty"`
}

// CancelRequest is the optional body of a cancel.
type CancelRequest struct {
	Reason string `json:"reason,omitempty"`
}

// intakeChannel resolves the channel an order is posted to: a reseller
// key's own channel, or the channel_id an admin names.
func (s *Server) intakeChannel(c *gin.Context, key *host.APIKey, named, field string) (*host.Channel, error) {
	id := named
	if key.Role == host.RoleOperator {
		return nil, host.Errorf(host.EFORBIDDEN, "an operator key works orders; it does not post them (use the channel's reseller key or an admin key)")
	}
	if key.Role == host.RoleReseller {
		if named != "" && named != key.ChannelID {
			return nil, &host.Error{Code: host.EFORBIDDEN, Message: "a reseller key posts only to its own channel",
				Fields: []sdk.FieldError{{Field: field, Detail: fmt.Sprintf("is %q but this key belongs to channel %q", named, key.ChannelID)}}}
		}
		id = key.ChannelID
	}
	if id == "" {
		return nil, host.InvalidFields("an admin key must name the channel", []sdk.FieldError{{Field: field, Detail: "is required when posting with an admin key"}})
	}
	ch, err := s.cfg.Store.Channel(c.Request.Context(), id)
	if host.ErrorCode(err) == host.ENOTFOUND {
		return nil, host.InvalidFields("no such channel", []sdk.FieldError{{Field: field, Detail: fmt.Sprintf("channel %q does not exist", id)}})
	}
	return ch, err
}

func requestHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func (s *Server) postOrder(c *gin.Context) {
	key := keyOf(c)
	body, err := readBody(c, s.cfg.BodyLimit)
	if err != nil {
		s.abort(c, err)
		return
	}
	var o sdk.Order
	if err := decodeStrict(body, &o, ""); err != nil {
		s.abort(c, err)
		return
	}
	ch, err := s.intakeChannel(c, key, o.ChannelID, "channel_id")
	if err != nil {
		s.abort(c, err)
		return
	}
	idem := c.GetHeader("Idempotency-Key")
	if len(idem) > 255 {
		s.abort(c, host.InvalidFields("the Idempotency-Key header is too long", []sdk.FieldError{{Field: "Idempotency-Key", Detail: "must be at most 255 characters"}}))
		return
	}
	results, err := s.cfg.Orders.Import(c.Request.Context(), ch, []orders.Incoming{{Order: &o, IdempotencyKey: idem, RequestHash: requestHash(body)}})
	if err != nil {
		s.abort(c, err)
		return
	}
	res := results[0]
	if res.Err != nil {
		s.abort(c, res.Err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		c.Header("Location", "/api/v1/orders/"+res.Record.ID)
	}
	respond(c, status, res.Record.View())
}

func (s *Server) postBatch(c *gin.Context) {
	key := keyOf(c)
	body, err := readBody(c, s.cfg.BatchBodyLimit)
	if err != nil {
		s.abort(c, err)
		return
	}
	var env struct {
		Orders []json.RawMessage `json:"orders"`
	}
	if err := decodeStrict(body, &env, ""); err != nil {
		s.abort(c, err)
		return
	}
	switch {
	case env.Orders == nil:
		s.abort(c, host.InvalidFields("the batch has no orders", []sdk.FieldError{{Field: "orders", Detail: "is required"}}))
		return
	case len(env.Orders) > MaxBatch:
		s.abort(c, host.InvalidFields("the batch is too large", []sdk.FieldError{{Field: "orders", Detail: fmt.Sprintf("has %d orders; at most %d are accepted", len(env.Orders), MaxBatch)}}))
		return
	}
	resp := BatchResponse{Results: make([]BatchResult, len(env.Orders))}
	type group struct {
		ch      *host.Channel
		in      []orders.Incoming
		indexes []int
	}
	groups := map[string]*group{}
	var order []string
	firstSeen := map[string]int{}
	var dupes []sdk.FieldError
	for i, raw := range env.Orders {
		prefix := fmt.Sprintf("orders[%d]", i)
		resp.Results[i].Index = i
		o := new(sdk.Order)
		err := decodeStrict(raw, o, prefix)
		var ch *host.Channel
		if err == nil {
			ch, err = s.intakeChannel(c, key, o.ChannelID, prefix+".channel_id")
		}
		if err != nil {
			resp.Results[i].Outcome = "rejected"
			resp.Results[i].ExternalID = o.ExternalID
			resp.Results[i].Problem = problemOf(err, c.Request.URL.Path)
			continue
		}
		dk := ch.ID + "\x00" + o.ExternalID
		if j, ok := firstSeen[dk]; ok && o.ExternalID != "" {
			dupes = append(dupes, sdk.FieldError{Field: prefix + ".external_id", Detail: fmt.Sprintf("%q is also the external id of orders[%d]", o.ExternalID, j)})
			continue
		}
		firstSeen[dk] = i
		g := groups[ch.ID]
		if g == nil {
			g = &group{ch: ch}
			groups[ch.ID] = g
			order = append(order, ch.ID)
		}
		g.in = append(g.in, orders.Incoming{Order: o})
		g.indexes = append(g.indexes, i)
	}
	if len(dupes) > 0 {
		s.abort(c, host.InvalidFields("the batch names one external id more than once; nothing was imported", dupes))
		return
	}
	for _, id := range order {
		g := groups[id]
		results, err := s.cfg.Orders.Import(c.Request.Context(), g.ch, g.in)
		if err != nil {
			s.abort(c, err)
			return
		}
		for j, res := range results {
			r := &resp.Results[g.indexes[j]]
			switch {
			case res.Err != nil:
				r.Outcome, r.ExternalID, r.Problem = "rejected", g.in[j].Order.ExternalID, problemOf(prefixFields(res.Err, fmt.Sprintf("orders[%d]", g.indexes[j])), c.Request.URL.Path)
			case res.Created:
				r.Outcome = "created"
			default:
				r.Outcome = "existing"
			}
			if res.Record != nil {
				r.ID, r.ExternalID, r.Status = res.Record.ID, res.Record.ExternalID, res.Record.Status
			}
		}
	}
	for _, r := range resp.Results {
		switch r.Outcome {
		case "created":
			resp.Created++
		case "existing":
			resp.Existing++
		default:
			resp.Rejected++
		}
	}
	respond(c, http.StatusOK, resp)
}

func (s *Server) listOrders(c *gin.Context) {
	key := keyOf(c)
	q := queryOf(c)
	f := orderFilter(q)
	f.After, f.Limit, f.Sort = q.str("cursor"), q.int("limit"), q.str("sort")
	f.Basic = q.str("view") == viewBasic
	if key.Role == host.RoleReseller {
		if f.ChannelID != "" && f.ChannelID != key.ChannelID {
			s.abort(c, host.Errorf(host.EFORBIDDEN, "a reseller key reads only its own channel's orders"))
			return
		}
		f.ChannelID = key.ChannelID
	}
	records, next, err := s.cfg.Store.ListOrders(c.Request.Context(), f)
	if err != nil {
		s.abort(c, err)
		return
	}
	list := OrderList{Orders: make([]*sdk.Order, len(records)), NextCursor: next}
	for i, r := range records {
		if f.Basic {
			list.Orders[i] = &r.Basic().Order
		} else {
			list.Orders[i] = r.View()
		}
	}
	respond(c, http.StatusOK, list)
}

// The views of a list of orders (the view parameter).
const (
	viewFull  = "full"
	viewBasic = "basic"
)

// viewParam chooses how much of each order a list returns.
var viewParam = enumParam("view", "full: each order whole, with its timeline. basic: each order as a list shows it (id, channel_id, external_id, number, placed_at, currency, customer name and email, totals, tags, status, holds, cancellation, imported_at, updated_at; no addresses, line_items, alerts, workflow or events), read from the index without the stored order: the hold queue's view, lighter on the host's memory.",
	viewFull, viewBasic).withDefault(viewFull)

// orderQuery declares the order filter's query parameters.
func orderQuery() []param {
	return []param{
		enumParam("status", "Orders of this status.", string(sdk.StatusOpen), string(sdk.StatusOnHold), string(sdk.StatusCanceled)),
		textParam("tag", "Orders with this tag.", "Review Needed"),
		enumParam("hold_reason", "Orders with a hold of this reason.", host.HoldReasons...),
		textParam("channel_id", "Orders of this channel (a reseller key is always limited to its own).", "acme"),
		textParam("sku", "Orders with a line of this SKU.", "V789"),
		textParam("external_id", "The order the channel knows by this id.", "PO-7781"),
		textParam("number", "Orders with this number.", "#1203"),
		timeParam("imported_after", "Orders imported at or after this time."),
		timeParam("imported_before", "Orders imported before this time."),
		timeParam("due_before", "Orders whose next timed hold falls due (lifts, or becomes due for review) before this time."),
		textParam("customer_email", "Orders of the customer with this email (compared without case).", "ada@example.com"),
		textParam("customer_name", "Orders of the customer with this name (compared without case and extra spaces).", "Ada Lovelace"),
		timeParam("held_after", "Orders on hold that went on hold at or after this time (the earliest held_at of their holds)."),
		timeParam("held_before", "Orders on hold that went on hold before this time: those held longer than since then."),
		timeParam("updated_after", "Orders that changed at or after this time (updated_at; imported_at for an order not changed since), for integrations that poll."),
	}
}

// orderCursorParam pages through a list of orders: an order id, or, in a
// sorted list, the time and id of the last order of the page.
var orderCursorParam = textParam("cursor", "The next_cursor of the previous page (with the same sort); there are no more pages when a page has none.", "1764320000000000000.01M8GTGTW4KBAFDX2G8FR15ZP3")

// sortParam orders the list.
var sortParam = enumParam("sort", "Order the list by placed_at or by held_at (when the order went on hold; only orders on hold are listed), oldest first, or newest first with a leading -. Left out: newest import first.",
	host.SortPlacedAt, host.SortPlacedAtDesc, host.SortHeldAt, host.SortHeldAtDesc)

// reevaluateQuery is the order filter of a re-evaluation: status defaults
// to on_hold.
func reevaluateQuery() []param {
	q := orderQuery()
	q[0] = q[0].withDefault(string(sdk.StatusOnHold))
	return q
}

// idempotencyKey documents the header of an order import.
var idempotencyKey = param{name: "Idempotency-Key", example: "po-7781-attempt",
	desc: "At most 255 characters. Replays of the same key and body return the first result; the same key with another body is a 409."}

// orderFilter reads the order filter (orderQuery) of a checked query.
func orderFilter(q queryValues) host.OrderFilter {
	return host.OrderFilter{
		Status: q.str("status"), Tag: q.str("tag"), HoldReason: q.str("hold_reason"), ChannelID: q.str("channel_id"), SKU: q.str("sku"),
		ExternalID: q.str("external_id"), Number: q.str("number"), ImportedAfter: q.time("imported_after"), ImportedBefore: q.time("imported_before"),
		DueBefore: q.time("due_before"), UpdatedAfter: q.time("updated_after"),
		CustomerEmail: q.str("customer_email"), CustomerName: q.str("customer_name"),
		HeldAfter: q.time("held_after"), HeldBefore: q.time("held_before"),
	}
}

// loadOrder reads the order named in the path, as the key may see it.
func (s *Server) loadOrder(c *gin.Context) (*host.Record, error) {
	r, err := s.cfg.Store.Order(c.Request.Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	if !keyOf(c).MayReadChannel(r.ChannelID) {
		return nil, host.Errorf(host.ENOTFOUND, "order %s not found", c.Param("id"))
	}
	return r, nil
}

func (s *Server) getOrder(c *gin.Context) {
	r, err := s.loadOrder(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, r.View())
}

// optionalJSON decodes an optional body into v.
func (s *Server) optionalJSON(c *gin.Context, v any) error {
	body, err := readBody(c, s.cfg.BodyLimit)
	if err != nil || len(body) == 0 {
		return err
	}
	return decodeStrict(body, v, "")
}

func (s *Server) releaseOrder(c *gin.Context) {
	var req ReleaseRequest
	if err := s.optionalJSON(c, &req); err != nil {
		s.abort(c, err)
		return
	}
	r, err := s.cfg.Orders.Release(c.Request.Context(), c.Param("id"), req.Note)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, r.View())
}

func (s *Server) cancelOrder(c *gin.Context) {
	var req CancelRequest
	if err := s.optionalJSON(c, &req); err != nil {
		s.abort(c, err)
		return
	}
	r, err := s.cfg.Orders.Cancel(c.Request.Context(), c.Param("id"), req.Reason)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, r.View())
}

func (s *Server) reevaluateOrder(c *gin.Context) {
	r, err := s.loadOrder(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	r, err = s.cfg.Orders.Reevaluate(c.Request.Context(), r.ID)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, r.View())
}

// EditRequest is an operator's edit of an order, with a note for the
// timeline.
type EditRequest struct {
	sdk.Edit
	Note string `json:"note,omitempty"`
}

func (s *Server) editOrder(c *gin.Context) {
	var req EditRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	if len(req.Note) > sdk.MaxTextLength {
		s.abort(c, host.InvalidFields("the edit is not valid", []sdk.FieldError{{Field: "note", Detail: fmt.Sprintf("must be at most %d bytes", sdk.MaxTextLength)}}))
		return
	}
	r, err := s.cfg.Orders.Edit(c.Request.Context(), c.Param("id"), &req.Edit, req.Note)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, r.View())
}

// BulkRequest is the body of a bulk release or cancel: the note for each
// order's timeline (required), and the orders by id unless the query's
// filters select them.
type BulkRequest struct {
	Note string   `json:"note"`
	IDs  []string `json:"ids,omitempty"`
}

// bulkQuery is the query of a bulk action: the re-evaluation filter and
// dry_run.
func bulkQuery() []param {
	return append(reevaluateQuery(), enumParam("dry_run", "true: report what would change and change nothing.", "true", "false").withDefault("false"))
}

func (s *Server) bulkRelease(c *gin.Context) { s.bulkAction(c, s.cfg.Orders.BulkRelease) }
func (s *Server) bulkCancel(c *gin.Context)  { s.bulkAction(c, s.cfg.Orders.BulkCancel) }

// bulkAction reads a bulk request (ids or filters, not both and not
// neither; a note) and runs it.
func (s *Server) bulkAction(c *gin.Context, run func(context.Context, orders.Bulk) (orders.BulkResult, error)) {
	var req BulkRequest
	body, err := readBody(c, s.cfg.BodyLimit)
	if err == nil {
		err = decodeStrict(body, &req, "")
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	q := queryOf(c)
	b := orders.Bulk{Note: req.Note, IDs: req.IDs, DryRun: q.str("dry_run") == "true"}
	filtered := false
	for name, values := range c.Request.URL.Query() {
		filtered = filtered || (name != "dry_run" && values[0] != "")
	}
	var bad []sdk.FieldError
	switch {
	case strings.TrimSpace(req.Note) == "":
		bad = append(bad, sdk.FieldError{Field: "note", Detail: "is required: say why, for each order's timeline"})
	case len(req.Note) > sdk.MaxTextLength:
		bad = append(bad, sdk.FieldError{Field: "note", Detail: fmt.Sprintf("must be at most %d bytes", sdk.MaxTextLength)})
	}
	switch {
	case filtered && len(req.IDs) > 0:
		bad = append(bad, sdk.FieldError{Field: "ids", Detail: "give ids or filters in the query string, not both"})
	case !filtered && len(req.IDs) == 0:
		bad = append(bad, sdk.FieldError{Field: "ids", Detail: "is required without filters: a bulk action never selects every order by default"})
	case len(req.IDs) > orders.MaxBulk:
		bad = append(bad, sdk.FieldError{Field: "ids", Detail: fmt.Sprintf("has %d ids; at most %d are accepted", len(req.IDs), orders.MaxBulk)})
	}
	if len(bad) > 0 {
		s.abort(c, host.InvalidFields("the bulk action is not valid; nothing was changed", bad))
		return
	}
	if filtered {
		f := orderFilter(q)
		b.Filter = &f
	}
	res, err := run(c.Request.Context(), b)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, res)
}

func (s *Server) reevaluateMatching(c *gin.Context) {
	f := orderFilter(queryOf(c))
	sum, err := s.cfg.Orders.ReevaluateMatching(c.Request.Context(), f)
	if err != nil && !errors.Is(err, c.Request.Context().Err()) {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, sum)
}

// summarizeOrders counts the orders the filters select (the hold queue
// by default) by reason, channel and age.
func (s *Server) summarizeOrders(c *gin.Context) {
	sum, err := s.cfg.Orders.Summarize(c.Request.Context(), orderFilter(queryOf(c)))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, sum)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Shopify's documented cost rules for the GraphQL Admin API: a scalar or
// enum field costs 0, an object 1, a connection 2 plus first: times the
// cost of one of its nodes. By them the connector's queries cost:
//
//	Orders:    2 + orders × (orderNodeCost + 2 + lines × lineNodeCost)
//	LineItems: 1 + 2 + lines × lineNodeCost
//	Shop:      shopQueryCost
//
// TestCostEstimates checks these against the fake's costing of the query
// texts, so a field added to a query shows up here.
const (
	connectionCost = 2
	// orderNodeCost is an Order with the objects selected in it: the
	// order, customer with defaultEmailAddress and defaultPhoneNumber,
	// shippingAddress, billingAddress, shippingLine, customAttributes, and
	// four MoneyBags with their shopMoney.
	orderNodeCost = 16
	// lineNodeCost is a LineItem with originalUnitPriceSet and its
	// shopMoney.
	lineNodeCost = 3
	// shopQueryCost is shop, plan, currentAppInstallation, accessScopes.
	shopQueryCost = 4
	// maxQueryCost is Shopify's single-query limit: a query whose
	// requested cost is higher is refused (MAX_COST_EXCEEDED) before it
	// runs.
	maxQueryCost = 1000
	// maxLines is the most line items one connection may ask for.
	maxLines = 250
	// minLines is the fewest line items per order an orders page asks
	// for before it asks for fewer orders instead: most orders have fewer,
	// and an order with more gets the rest by extra LineItems queries.
	minLines = 10
)

// page is the size of an orders request.
type page struct{ orders, lines int }

func (p page) String() string {
	return fmt.Sprintf("%d orders with up to %d line items each", p.orders, p.lines)
}

func ordersCost(p page) float64 {
	return connectionCost + float64(p.orders)*(orderNodeCost+connectionCost+float64(p.lines)*lineNodeCost)
}

func lineItemsCost(lines int) float64 { return 1 + connectionCost + float64(lines)*lineNodeCost }

// request is one query: its kind names the queries whose last requested
// cost estimates the next one's, cost is its requested cost by the
// documented rules.
type request struct {
	kind  string
	query string
	vars  map[string]any
	cost  float64
}

// client calls one shop's GraphQL Admin API, paced by Shopify's
// cost-based leaky bucket.
type client struct {
	endpoint, token string
	// version is the API version asked for; userAgent names the connector.
	version, userAgent string
	http               *http.Client
	// sleep waits (tests record it and move their clock); it returns
	// early with ctx's error.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
	// maxRetries bounds retries of one request after throttling, 429 and
	// 5xx; maxBackoff caps one wait.
	maxRetries int
	maxBackoff time.Duration

	// The bucket as the last response described it, at seenAt.
	available, maximum, restoreRate float64
	seenAt                          time.Time
	// scale is, by query kind, the requested cost Shopify last gave over
	// the documented rules' cost of that query: the next query of the kind
	// is estimated at its own rules' cost times scale.
	scale map[string]float64
	// maxCost is the single-query limit, maxQueryCost until Shopify says
	// otherwise in a MAX_COST_EXCEEDED error.
	maxCost float64
	// answered is the API version Shopify last answered with; the warned
	// flags keep the warnings to one per import.
	answered                         string
	warnedVersion, warnedDeprecation bool
}

// response is the envelope of a GraphQL response.
type response struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions struct {
		Cost *struct {
			RequestedQueryCost float64  `json:"requestedQueryCost"`
			ActualQueryCost    *float64 `json:"actualQueryCost"`
			ThrottleStatus     struct {
				MaximumAvailable   float64 `json:"maximumAvailable"`
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
		// Cost and MaxCost come with MAX_COST_EXCEEDED; raw, since other
		// errors may carry other things under these names.
		Cost    json.RawMessage `json:"cost"`
		MaxCost json.RawMessage `json:"maxCost"`
	} `json:"extensions"`
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *client) scaleOf(kind string) float64 {
	if s, ok := c.scale[kind]; ok {
		return s
	}
	return 1
}

// estimate is the requested cost r will have: its rules' cost scaled by
// what Shopify charged the last query of its kind (exactly that charge
// when r is the same query).
func (c *client) estimate(r request) float64 { return r.cost * c.scaleOf(r.kind) }

// wait is how long until the bucket holds need points, from its state at
// the last response and the restore rate since (at most the bucket's
// size: a bigger query is Shopify's to refuse).
func (c *client) wait(need float64) time.Duration {
	if c.restoreRate <= 0 {
		return 0 // no response has described the bucket yet
	}
	available := c.available
	if elapsed := c.now().Sub(c.seenAt); elapsed > 0 {
		available = min(c.maximum, available+c.restoreRate*elapsed.Seconds())
	}
	if c.maximum > 0 {
		need = min(need, c.maximum)
	}
	if available >= need {
		return 0
	}
	return time.Duration(math.Ceil((need - available) / c.restoreRate * float64(time.Second)))
}

// backoff is the wait before retry n (from 0): exponential with full
// jitter, capped.
func (c *client) backoff(n int) time.Duration {
	d := min(time.Second<<min(n, 10), c.maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// query runs r into out (the "data" object). Before sending it waits
// until the bucket holds r's estimated cost; it retries throttled
// requests, 429 and 5xx with back-off. A query Shopify refuses as too
// costly returns a *costError.
func (c *client) query(ctx context.Context, r request, out any) error {
	body, err := json.Marshal(map[string]any{"query": r.query, "variables": r.vars})
	if err != nil {
		return sdk.Errorf(sdk.ErrInternal, "encoding the %s query: %v", r.kind, err)
	}
	for attempt := 0; ; attempt++ {
		if wait := c.wait(c.estimate(r)); wait > 0 {
			sdk.Logger(ctx).Debug("waiting for Shopify's rate-limit bucket to refill", "query", r.kind,
				"estimated_cost", c.estimate(r), "available", c.available, "wait", wait.String())
			if err := c.sleep(ctx, min(wait, c.maxBackoff)); err != nil {
				return err
			}
		}
		resp, header, retryAfter, err := c.post(ctx, body)
		if header != nil {
			c.headers(ctx, header)
		}
		var retry bool
		switch {
		case err == nil:
		case errors.Is(err, errRetryable):
			retry = true
		default:
			return err
		}
		if resp != nil {
			c.track(resp, r)
			if throttled(resp) {
				retry = true
				retryAfter = max(retryAfter, c.wait(c.estimate(r)))
			}
		}
		if retry {
			if attempt >= c.maxRetries {
				return sdk.Errorf(sdk.ErrUnavailable, "Shopify kept refusing the %s query (throttled or failing) after %d attempts; the import resumes on the next run", r.kind, attempt+1)
			}
			wait := c.backoff(attempt)
			if retryAfter > wait {
				wait = min(retryAfter+c.backoff(0)/4, c.maxBackoff)
			}
			if err := c.sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		if ce := c.costExceeded(r, resp.Errors); ce != nil {
			return ce
		}
		if err := graphQLErrors(resp.Errors); err != nil {
			return err
		}
		if len(resp.Data) == 0 || string(resp.Data) == "null" {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify's response to the %s query has no data", r.kind)
		}
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify's response to the %s query could not be read: %v", r.kind, err)
		}
		return nil
	}
}

var errRetryable = errors.New("retryable")

// post sends one request. It returns the decoded response and the
// response's headers, or errRetryable (with Retry-After) for 429 and 5xx,
// or an *sdk.Error.
func (c *client) post(ctx context.Context, body []byte) (*response, http.Header, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, nil, 0, sdk.Errorf(sdk.ErrInvalidConfig, "the shop address gives no valid URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("X-Shopify-Access-Token", c.token)
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, 0, ctx.Err()
		}
		return nil, nil, 0, sdk.Errorf(sdk.ErrUnavailable, "cannot reach %s: %v; check the shop domain (e.g. my-store.myshopify.com)", hostOf(c.endpoint), err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, res.Header, 0, sdk.Errorf(sdk.ErrUnavailable, "reading Shopify's response: %v", err)
	}
	retryAfter := time.Duration(0)
	if s := res.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && secs > 0 {
			retryAfter = time.Duration(secs * float64(time.Second))
		}
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return nil, res.Header, 0, sdk.Errorf(sdk.ErrUnauthenticated, "Shopify rejected the access token (401); create a new Admin API access token in the store's admin under Settings > Apps and sales channels > Develop apps")
	case res.StatusCode == http.StatusForbidden:
		return nil, res.Header, 0, sdk.Errorf(sdk.ErrPermissionDenied, "Shopify refused access (403); the app needs the read_orders scope")
	case res.StatusCode == http.StatusNotFound:
		return nil, res.Header, 0, sdk.Errorf(sdk.ErrNotFound, "%s has no Admin API at that version (404); check the shop domain and api_version", hostOf(c.endpoint))
	case res.StatusCode == http.StatusPaymentRequired || res.StatusCode == 423:
		return nil, res.Header, 0, sdk.Errorf(sdk.ErrUnavailable, "the store is frozen or locked (%d)", res.StatusCode)
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		var r response
		if json.Unmarshal(data, &r) == nil {
			return &r, res.Header, retryAfter, errRetryable
		}
		return nil, res.Header, retryAfter, errRetryable
	case res.StatusCode != http.StatusOK:
		return nil, res.Header, 0, sdk.Errorf(sdk.ErrUnavailable, "Shopify answered %s", res.Status)
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, res.Header, 0, sdk.Errorf(sdk.ErrUnavailable, "Shopify's response is not JSON: %v", err)
	}
	return &r, res.Header, 0, nil
}

// headers reads what Shopify says of the API version: the version it
// answered with (when not the one asked for, the asked one is no longer
// supported and Shopify fell forward to the oldest supported one), and
// X-Shopify-API-Deprecated-Reason (the query uses something to be removed
// in a later version). Each is logged once per import.
func (c *client) headers(ctx context.Context, h http.Header) {
	if v := h.Get("X-Shopify-API-Version"); v != "" {
		c.answered = v
		if v != c.version && !c.warnedVersion {
			c.warnedVersion = true
			sdk.Logger(ctx).Warn("Shopify answered with another API version than the one asked for, which it no longer supports (or has not released); set the channel's api_version to a supported version",
				"asked", c.version, "answered", v, "connector_built_for", DefaultAPIVersion)
		}
	}
	if v := h.Get("X-Shopify-API-Deprecated-Reason"); v != "" && !c.warnedDeprecation {
		c.warnedDeprecation = true
		sdk.Logger(ctx).Warn("Shopify says the connector's query uses something deprecated, to be removed in a later API version; update the connector",
			"reason", v, "api_version", c.answered)
	}
}

// versionNote says, for a connection test, that Shopify answered with
// another API version than asked for; "" when it did not.
func (c *client) versionNote() string {
	if c.answered == "" || c.answered == c.version {
		return ""
	}
	return fmt.Sprintf("; warning: Shopify answered with API version %s, not the %s asked for, which it no longer supports: set api_version to a supported version (this connector is built for %s)", c.answered, c.version, DefaultAPIVersion)
}

// track reads the bucket state and the query's requested cost from a
// response.
func (c *client) track(resp *response, r request) {
	cost := resp.Extensions.Cost
	if cost == nil {
		return
	}
	ts := cost.ThrottleStatus
	c.available, c.maximum, c.restoreRate, c.seenAt = ts.CurrentlyAvailable, ts.MaximumAvailable, ts.RestoreRate, c.now()
	if cost.RequestedQueryCost > 0 && r.cost > 0 {
		c.scale[r.kind] = cost.RequestedQueryCost / r.cost
	}
}

func throttled(r *response) bool {
	for _, e := range r.Errors {
		if e.Extensions.Code == "THROTTLED" || strings.EqualFold(e.Message, "Throttled") {
			return true
		}
	}
	return false
}

// costError is Shopify refusing a query whose requested cost is over the
// single-query limit (MAX_COST_EXCEEDED). Cost and max are 0 when Shopify
// did not say.
type costError struct {
	cost, max float64
	err       *sdk.Error
}

func (e *costError) Error() string { return e.err.Error() }
func (e *costError) Unwrap() error { return e.err }

// detail says what Shopify said the query cost.
func (e *costError) detail() string {
	if e.cost > 0 && e.max > 0 {
		return fmt.Sprintf("its cost of %g is over Shopify's single-query limit of %g", e.cost, e.max)
	}
	return "its cost is over Shopify's single-query limit"
}

var costMessage = regexp.MustCompile(`[Qq]uery cost is (\d+(?:\.\d+)?), which exceeds the single query max cost limit \((\d+(?:\.\d+)?)\)`)

// costExceeded returns a *costError when errs hold MAX_COST_EXCEEDED,
// taking the query's cost and the limit from the error's extensions or
// else its message, and keeps both: the limit for the following queries,
// the cost to scale the estimates of r's kind.
func (c *client) costExceeded(r request, errs []gqlError) *costError {
	for _, e := range errs {
		if e.Extensions.Code != "MAX_COST_EXCEEDED" {
			continue
		}
		ce := &costError{}
		_ = json.Unmarshal(e.Extensions.Cost, &ce.cost)
		_ = json.Unmarshal(e.Extensions.MaxCost, &ce.max)
		if m := costMessage.FindStringSubmatch(e.Message); m != nil && (ce.cost <= 0 || ce.max <= 0) {
			ce.cost, _ = strconv.ParseFloat(m[1], 64)
			ce.max, _ = strconv.ParseFloat(m[2], 64)
		}
		if ce.max > 0 {
			c.maxCost = ce.max
		}
		if ce.cost > 0 && r.cost > 0 {
			c.scale[r.kind] = ce.cost / r.cost
		}
		first, _, _ := strings.Cut(e.Message, "\n")
		ce.err = sdk.Errorf(sdk.ErrUnavailable, "Shopify refused the %s query as too costly (MAX_COST_EXCEEDED): %s", r.kind, strings.TrimSpace(first))
		return ce
	}
	return nil
}

// fitOrders returns the largest orders page within limit whose estimated
// cost is within the single-query limit: limit's orders with as many line
// items each as fit, down to minLines; then fewer orders; then, for one
// order, fewer lines. It fails when not even one order with one line item
// fits.
func (c *client) fitOrders(limit page) (page, bool) {
	budget := c.maxCost / c.scaleOf("orders")
	perOrder := func(lines float64) float64 { return orderNodeCost + connectionCost + lines*lineNodeCost }
	lines := math.Floor(((budget-connectionCost)/float64(limit.orders) - orderNodeCost - connectionCost) / lineNodeCost)
	if floor := min(minLines, limit.lines); lines >= float64(floor) {
		return page{orders: limit.orders, lines: int(min(lines, float64(limit.lines)))}, true
	}
	p := page{lines: min(minLines, limit.lines)}
	if orders := math.Floor((budget - connectionCost) / perOrder(float64(p.lines))); orders >= 1 {
		p.orders = int(min(orders, float64(limit.orders)))
		return p, true
	}
	lines = math.Floor((budget - connectionCost - orderNodeCost - connectionCost) / lineNodeCost)
	if lines >= 1 {
		return page{orders: 1, lines: int(min(lines, float64(limit.lines)))}, true
	}
	return page{}, false
}

// shrinkOrders returns a page smaller than p for after Shopify refused p
// as too costly: the largest that fits by the cost Shopify gave, or, when
// it gave none (so p still seems to fit), p with half the line items
// (down to minLines) or else half the orders. It fails when nothing fits.
func (c *client) shrinkOrders(p page) (page, bool) {
	q, ok := c.fitOrders(p)
	switch {
	case !ok:
		return p, false
	case q.orders < p.orders || q.lines < p.lines:
		return q, true
	}
	switch {
	case p.lines > minLines:
		p.lines = max(minLines, p.lines/2)
	case p.orders > 1:
		p.orders /= 2
	case p.lines > 1:
		p.lines /= 2
	default:
		return p, false
	}
	return p, true
}

// fitLines returns how many line items (at most limit) a LineItems query
// may ask for within the single-query limit.
func (c *client) fitLines(limit int) (int, bool) {
	budget := c.maxCost / c.scaleOf("lineItems")
	n := math.Floor((budget - 1 - connectionCost) / lineNodeCost)
	if n < 1 {
		return 0, false
	}
	return int(min(n, float64(limit))), true
}

// shrinkLines is shrinkOrders for a LineItems query of n line items.
func (c *client) shrinkLines(n int) (int, bool) {
	m, ok := c.fitLines(n)
	switch {
	case !ok:
		return n, false
	case m < n:
		return m, true
	case n > 1:
		return n / 2, true
	}
	return n, false
}

func graphQLErrors(errs []gqlError) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
		if e.Extensions.Code == "ACCESS_DENIED" {
			return sdk.Errorf(sdk.ErrPermissionDenied, "Shopify denied access: %s; grant the app the read_orders scope (and read_all_orders for orders older than 60 days)", e.Message)
		}
	}
	return sdk.Errorf(sdk.ErrUnavailable, "Shopify returned errors: %s", strings.Join(msgs, "; "))
}

func hostOf(endpoint string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	host, _, _ := strings.Cut(s, "/")
	return host
}

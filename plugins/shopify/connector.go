package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Version is the Shopify connector's version; requests name it in their
// User-Agent.
var Version = "1.1.0"

// DefaultAPIVersion is the GraphQL Admin API version the connector speaks
// unless a channel sets api_version. It is pinned here, in one place.
// Shopify supports a stable version for 12 months; a request for an
// unsupported one is answered by the oldest supported version (and its
// X-Shopify-API-Version says which), so keep this within the last four
// quarterly releases.
const DefaultAPIVersion = "2026-10"

// DefaultPageSize is the orders per request unless a channel sets
// page_size: 20 orders with 10 line items each cost 962 points by
// Shopify's rules, within its 1,000-point single-query limit.
const DefaultPageSize = 20

// Configuration fields.
const (
	cfgShop       = "shop"
	cfgToken      = "access_token"
	cfgAPIVersion = "api_version"
	cfgQuery      = "query"
	cfgStartDate  = "start_date"
	cfgOverlap    = "overlap"
	cfgPageSize   = "page_size"
	cfgEndpoint   = "endpoint"
)

// Connector imports a Shopify store's orders.
type Connector struct {
	// HTTP and Sleep are replaced in tests.
	HTTP  *http.Client
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
}

// New returns the Shopify connector.
func New() *Connector {
	return &Connector{HTTP: &http.Client{Timeout: 60 * time.Second}, Sleep: sleepCtx, Now: time.Now}
}

// Describe implements sdk.Connector.
func (*Connector) Describe() sdk.Description {
	return sdk.Description{
		Name:         "shopify",
		Version:      Version,
		Description:  "Imports orders from a Shopify store through the GraphQL Admin API.",
		Capabilities: []string{sdk.CapabilityGetOrders},
		Config: []sdk.ConfigField{
			{Name: cfgShop, Type: sdk.FieldString, Required: true, Description: "The store's myshopify.com domain, e.g. my-store.myshopify.com."},
			{Name: cfgToken, Type: sdk.FieldString, Required: true, Secret: true, Description: "An Admin API access token of a custom app with the read_orders scope (read_all_orders for orders older than 60 days)."},
			{Name: cfgAPIVersion, Type: sdk.FieldString, Default: DefaultAPIVersion, Description: "The GraphQL Admin API version, e.g. " + DefaultAPIVersion + "; Shopify supports each for 12 months."},
			{Name: cfgQuery, Type: sdk.FieldString, Description: "An extra Shopify order search filter, e.g. financial_status:paid."},
			{Name: cfgStartDate, Type: sdk.FieldString, Description: "The first import takes orders updated since this date (YYYY-MM-DD or RFC 3339); default 30 days back."},
			{Name: cfgOverlap, Type: sdk.FieldDuration, Default: "5m", Description: "How far before the last seen update each import looks again, so orders changed in the same second are not missed."},
			{Name: cfgPageSize, Type: sdk.FieldInteger, Default: DefaultPageSize, Description: "Orders per request, 1 to 250; fewer when a page would cost more than Shopify's single-query limit of 1,000 points."},
			{Name: cfgEndpoint, Type: sdk.FieldString, Description: "Overrides the GraphQL endpoint URL (for proxies and tests); normally derived from shop and api_version."},
		},
	}
}

var (
	shopPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)
	versionPattern  = regexp.MustCompile(`^(20[0-9]{2}-(01|04|07|10)|unstable)$`)
	endpointVersion = regexp.MustCompile(`/admin/api/([^/]+)/graphql\.json$`)
)

// settings are a channel's checked settings.
type settings struct {
	endpoint, token, filter string
	// version is the API version asked for: the endpoint's, else
	// api_version.
	version  string
	start    time.Time
	overlap  time.Duration
	pageSize int
}

func (c *Connector) settings(cfg sdk.Config) (*settings, error) {
	var bad []sdk.FieldError
	s := &settings{token: cfg.String(cfgToken), filter: cfg.String(cfgQuery), overlap: cfg.Duration(cfgOverlap), pageSize: int(cfg.Int(cfgPageSize))}
	shop := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(cfg.String(cfgShop), "https://"), "/"))
	version := cfg.String(cfgAPIVersion)
	s.endpoint = cfg.String(cfgEndpoint)
	if s.endpoint == "" {
		if !shopPattern.MatchString(shop) {
			bad = append(bad, sdk.FieldError{Field: cfgShop, Detail: fmt.Sprintf("%q is not a <store>.myshopify.com domain", cfg.String(cfgShop))})
		}
		s.endpoint = "https://" + shop + "/admin/api/" + version + "/graphql.json"
	}
	s.version = version
	if m := endpointVersion.FindStringSubmatch(s.endpoint); m != nil {
		s.version = m[1]
	}
	if !versionPattern.MatchString(version) {
		bad = append(bad, sdk.FieldError{Field: cfgAPIVersion, Detail: fmt.Sprintf("%q is not a Shopify API version such as %s", version, DefaultAPIVersion)})
	}
	if s.pageSize < 1 || s.pageSize > 250 {
		bad = append(bad, sdk.FieldError{Field: cfgPageSize, Detail: "must be from 1 to 250"})
	}
	if s.overlap < 0 || s.overlap > 24*time.Hour {
		bad = append(bad, sdk.FieldError{Field: cfgOverlap, Detail: "must be from 0 to 24h"})
	}
	s.start = c.Now().UTC().AddDate(0, 0, -30)
	if v := cfg.String(cfgStartDate); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, v)
		}
		if err != nil {
			bad = append(bad, sdk.FieldError{Field: cfgStartDate, Detail: fmt.Sprintf("%q is not a date (YYYY-MM-DD) or RFC 3339 time", v)})
		}
		s.start = t.UTC()
	}
	if len(bad) > 0 {
		return nil, &sdk.Error{Kind: sdk.ErrInvalidConfig, Message: "the configuration is not valid", Fields: bad}
	}
	return s, nil
}

func (c *Connector) client(s *settings) *client {
	return &client{endpoint: s.endpoint, token: s.token, version: s.version, userAgent: "ordergate-connector-shopify/" + Version,
		http: c.HTTP, sleep: c.Sleep, now: c.Now, maxRetries: 8, maxBackoff: 30 * time.Second,
		scale: map[string]float64{}, maxCost: maxQueryCost}
}

const shopQuery = `query Shop {
  shop { name myshopifyDomain plan { publicDisplayName } }
  currentAppInstallation { accessScopes { handle } }
}`

// TestConnection implements sdk.Connector: the shop's name and plan, and
// the scopes the token has.
func (c *Connector) TestConnection(ctx context.Context, cfg sdk.Config) (string, error) {
	s, err := c.settings(cfg)
	if err != nil {
		return "", err
	}
	var out struct {
		Shop struct {
			Name            string `json:"name"`
			MyshopifyDomain string `json:"myshopifyDomain"`
			Plan            struct {
				PublicDisplayName string `json:"publicDisplayName"`
			} `json:"plan"`
		} `json:"shop"`
		CurrentAppInstallation struct {
			AccessScopes []struct {
				Handle string `json:"handle"`
			} `json:"accessScopes"`
		} `json:"currentAppInstallation"`
	}
	api := c.client(s)
	if err := api.query(ctx, request{kind: "shop", query: shopQuery, cost: shopQueryCost}, &out); err != nil {
		return "", err
	}
	var scopes []string
	for _, sc := range out.CurrentAppInstallation.AccessScopes {
		scopes = append(scopes, sc.Handle)
	}
	if !slices.Contains(scopes, "read_orders") && !slices.Contains(scopes, "write_orders") {
		return "", sdk.Errorf(sdk.ErrPermissionDenied, "the app lacks the read_orders scope (it has: %s); add it under the app's Admin API access scopes and reinstall", strings.Join(scopes, ", "))
	}
	detail := fmt.Sprintf("connected to %s (%s, plan %s)", out.Shop.Name, out.Shop.MyshopifyDomain, out.Shop.Plan.PublicDisplayName)
	if s.start.Before(c.Now().AddDate(0, 0, -60)) && !slices.Contains(scopes, "read_all_orders") {
		return "", sdk.Errorf(sdk.ErrPermissionDenied, "%s, but start_date is more than 60 days back and the app lacks the read_all_orders scope; request it from Shopify or start later", detail)
	}
	return detail + api.versionNote(), nil
}

// cursor is the connector's cursor. An import asks for the orders updated
// since Since (minus the overlap), sorted by update time, and pages
// through them with Shopify's connection cursor After; Max is the latest
// update seen, where the next import starts.
type cursor struct {
	Since time.Time `json:"since"`
	After string    `json:"after,omitempty"`
	Max   time.Time `json:"max"`
}

func (c cursor) String() string {
	data, _ := json.Marshal(c)
	return string(data)
}

// ordersQuery asks for a page of orders ($first) with the first $lines
// line items of each; ordersCost is its cost.
const ordersQuery = `query Orders($first: Int!, $lines: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    edges {
      cursor
      node {
        id name createdAt processedAt updatedAt cancelledAt cancelReason currencyCode email phone note tags
        displayFinancialStatus displayFulfillmentStatus
        customer { firstName lastName defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } }
        shippingAddress { name company address1 address2 city provinceCode zip countryCodeV2 }
        billingAddress { name company address1 address2 city provinceCode zip countryCodeV2 }
        shippingLine { title code }
        customAttributes { key value }
        subtotalPriceSet { shopMoney { amount } }
        totalShippingPriceSet { shopMoney { amount } }
        totalTaxSet { shopMoney { amount } }
        totalPriceSet { shopMoney { amount } }
        lineItems(first: $lines) {
          edges { node { sku title quantity originalUnitPriceSet { shopMoney { amount } } } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

// GetOrders implements sdk.Connector. Each request asks for as many
// orders (at most page_size) and line items of each as fit within
// Shopify's single-query cost limit; when Shopify still refuses a page as
// too costly, the import goes on with smaller ones and says so on the
// next page it sends.
func (c *Connector) GetOrders(ctx context.Context, cfg sdk.Config, cur string, pages sdk.Pages) error {
	s, err := c.settings(cfg)
	if err != nil {
		return err
	}
	state := cursor{Since: s.start, Max: s.start}
	if cur != "" {
		if err := json.Unmarshal([]byte(cur), &state); err != nil {
			return sdk.Errorf(sdk.ErrInternal, "the cursor %q was not made by this connector: %v", cur, err)
		}
	}
	if state.After == "" && !state.Max.IsZero() {
		state.Since = state.Max
	}
	filter := fmt.Sprintf("updated_at:>='%s'", state.Since.Add(-s.overlap).UTC().Format(time.RFC3339))
	if s.filter != "" {
		filter += " AND (" + s.filter + ")"
	}
	imp := &importer{client: c.client(s), log: sdk.Logger(ctx), limit: page{orders: s.pageSize, lines: maxLines}, lineLimit: maxLines}
	for {
		var out ordersPage
		if err := imp.orders(ctx, state.After, filter, &out); err != nil {
			return err
		}
		orders := make([]sdk.Order, 0, len(out.Orders.Edges))
		for i := range out.Orders.Edges {
			e := &out.Orders.Edges[i]
			if err := imp.moreLineItems(ctx, &e.Node); err != nil {
				return err
			}
			o, err := mapOrder(&e.Node)
			if err != nil {
				return sdk.Errorf(sdk.ErrUnavailable, "Shopify order %s: %v", e.Node.Name, err)
			}
			orders = append(orders, o)
			if e.Node.UpdatedAt.After(state.Max) {
				state.Max = e.Node.UpdatedAt
			}
		}
		next := state
		if out.Orders.PageInfo.HasNextPage {
			if out.Orders.PageInfo.EndCursor == "" {
				return sdk.Errorf(sdk.ErrUnavailable, "Shopify says more orders follow but gives no cursor")
			}
			next.After = out.Orders.PageInfo.EndCursor
		} else {
			next.After, next.Since = "", state.Max
		}
		if err := pages.Send(orders, next.String(), imp.problems...); err != nil {
			return err
		}
		imp.log.Debug("page sent", "orders", len(orders), "more", out.Orders.PageInfo.HasNextPage)
		imp.problems = nil
		state = next
		if !out.Orders.PageInfo.HasNextPage {
			return nil
		}
	}
}

// importer is one GetOrders call: its client, the largest requests
// Shopify has not refused as too costly, and the problems to report on
// the next page sent.
type importer struct {
	*client
	log       sdk.Log
	limit     page
	lineLimit int
	problems  []sdk.Problem
}

// orders reads the page of orders after the connection cursor after,
// as large as fits, shrinking it while Shopify refuses it as too costly.
func (imp *importer) orders(ctx context.Context, after, filter string, out *ordersPage) error {
	for {
		p, ok := imp.fitOrders(imp.limit)
		if !ok {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify's single-query cost limit (%g) is below the cost of even one order with one line item (%g by its last charges); the import resumes on the next run",
				imp.maxCost, ordersCost(page{1, 1})*imp.scaleOf("orders"))
		}
		vars := map[string]any{"first": p.orders, "lines": p.lines, "query": filter}
		if after != "" {
			vars["after"] = after
		}
		err := imp.query(ctx, request{kind: "orders", query: ordersQuery, vars: vars, cost: ordersCost(p)}, out)
		var ce *costError
		if !errors.As(err, &ce) {
			if err != nil {
				return during("reading a page of "+p.String(), err)
			}
			return nil
		}
		smaller, ok := imp.shrinkOrders(p)
		if !ok {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify refused a page of %s as too costly (%s), and not even one order with one line item fits its single-query cost limit (%g); the import resumes on the next run",
				p, ce.detail(), imp.maxCost)
		}
		msg := fmt.Sprintf("Shopify refused a page of %s as too costly (%s, MAX_COST_EXCEEDED); this import asks for %s from here on", p, ce.detail(), smaller)
		imp.log.Warn(msg)
		imp.problems = append(imp.problems, sdk.Problem{Source: "orders query", Message: msg, Notice: true})
		imp.limit = smaller
	}
}

const lineItemsQuery = `query LineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      edges { node { sku title quantity originalUnitPriceSet { shopMoney { amount } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`

// moreLineItems fetches the line items of an order beyond the first page,
// in requests as large as fit.
func (imp *importer) moreLineItems(ctx context.Context, o *shopOrder) error {
	for o.LineItems.PageInfo.HasNextPage {
		n, ok := imp.fitLines(imp.lineLimit)
		if !ok {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify's single-query cost limit (%g) is below the cost of reading even one more line item of order %s", imp.maxCost, o.Name)
		}
		var out struct {
			Order *struct {
				LineItems lineItems `json:"lineItems"`
			} `json:"order"`
		}
		vars := map[string]any{"id": o.ID, "first": n, "after": o.LineItems.PageInfo.EndCursor}
		err := imp.query(ctx, request{kind: "lineItems", query: lineItemsQuery, vars: vars, cost: lineItemsCost(n)}, &out)
		var ce *costError
		if errors.As(err, &ce) {
			smaller, ok := imp.shrinkLines(n)
			if !ok {
				return sdk.Errorf(sdk.ErrUnavailable, "Shopify refused %d more line items of order %s as too costly (%s), and not even one fits its single-query cost limit (%g); the import resumes on the next run",
					n, o.Name, ce.detail(), imp.maxCost)
			}
			msg := fmt.Sprintf("Shopify refused %d more line items of order %s as too costly (%s, MAX_COST_EXCEEDED); this import asks for %d at a time from here on", n, o.Name, ce.detail(), smaller)
			imp.log.Warn(msg)
			imp.problems = append(imp.problems, sdk.Problem{Source: "order " + o.Name, Message: msg, Notice: true})
			imp.lineLimit = smaller
			continue
		}
		if err != nil {
			return during("reading more line items of order "+o.Name, err)
		}
		if out.Order == nil {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify order %s vanished while its line items were read", o.Name)
		}
		o.LineItems.Edges = append(o.LineItems.Edges, out.Order.LineItems.Edges...)
		o.LineItems.PageInfo = out.Order.LineItems.PageInfo
	}
	return nil
}

// during prefixes err with what was being done. An *sdk.Error keeps its
// kind and gets the prefix in its message, the part the host is told.
func during(what string, err error) error {
	var e *sdk.Error
	if errors.As(err, &e) {
		return &sdk.Error{Kind: e.Kind, Message: what + ": " + e.Message, Fields: e.Fields}
	}
	return fmt.Errorf("%s: %w", what, err)
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Version is the Shopify connector's version.
var Version = "1.0.0"

// DefaultAPIVersion is the GraphQL Admin API version the connector speaks
// unless a channel sets api_version. It is pinned here, in one place.
const DefaultAPIVersion = "2025-10"

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
			{Name: cfgAPIVersion, Type: sdk.FieldString, Default: DefaultAPIVersion, Description: "The GraphQL Admin API version, e.g. 2025-10."},
			{Name: cfgQuery, Type: sdk.FieldString, Description: "An extra Shopify order search filter, e.g. financial_status:paid."},
			{Name: cfgStartDate, Type: sdk.FieldString, Description: "The first import takes orders updated since this date (YYYY-MM-DD or RFC 3339); default 30 days back."},
			{Name: cfgOverlap, Type: sdk.FieldDuration, Default: "5m", Description: "How far before the last seen update each import looks again, so orders changed in the same second are not missed."},
			{Name: cfgPageSize, Type: sdk.FieldInteger, Default: 100, Description: "Orders per request, 1 to 250."},
			{Name: cfgEndpoint, Type: sdk.FieldString, Description: "Overrides the GraphQL endpoint URL (for proxies and tests); normally derived from shop and api_version."},
		},
	}
}

var (
	shopPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)
	versionPattern = regexp.MustCompile(`^(20[0-9]{2}-(01|04|07|10)|unstable)$`)
)

// settings are a channel's checked settings.
type settings struct {
	endpoint, token, filter string
	start                   time.Time
	overlap                 time.Duration
	pageSize                int
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
	return &client{endpoint: s.endpoint, token: s.token, http: c.HTTP, sleep: c.Sleep, maxRetries: 8, maxBackoff: 30 * time.Second}
}

const shopQuery = `query Shop {
  shop { name myshopifyDomain plan { displayName } }
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
				DisplayName string `json:"displayName"`
			} `json:"plan"`
		} `json:"shop"`
		CurrentAppInstallation struct {
			AccessScopes []struct {
				Handle string `json:"handle"`
			} `json:"accessScopes"`
		} `json:"currentAppInstallation"`
	}
	if err := c.client(s).query(ctx, shopQuery, nil, &out); err != nil {
		return "", err
	}
	var scopes []string
	for _, sc := range out.CurrentAppInstallation.AccessScopes {
		scopes = append(scopes, sc.Handle)
	}
	if !slices.Contains(scopes, "read_orders") && !slices.Contains(scopes, "write_orders") {
		return "", sdk.Errorf(sdk.ErrPermissionDenied, "the app lacks the read_orders scope (it has: %s); add it under the app's Admin API access scopes and reinstall", strings.Join(scopes, ", "))
	}
	detail := fmt.Sprintf("connected to %s (%s, plan %s)", out.Shop.Name, out.Shop.MyshopifyDomain, out.Shop.Plan.DisplayName)
	if s.start.Before(c.Now().AddDate(0, 0, -60)) && !slices.Contains(scopes, "read_all_orders") {
		return "", sdk.Errorf(sdk.ErrPermissionDenied, "%s, but start_date is more than 60 days back and the app lacks the read_all_orders scope; request it from Shopify or start later", detail)
	}
	return detail, nil
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

const ordersQuery = `query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    edges {
      cursor
      node {
        id name createdAt processedAt updatedAt currencyCode email phone note tags
        displayFinancialStatus displayFulfillmentStatus
        customer { firstName lastName email phone }
        shippingAddress { name company address1 address2 city provinceCode zip countryCodeV2 }
        billingAddress { name company address1 address2 city provinceCode zip countryCodeV2 }
        shippingLine { title code }
        customAttributes { key value }
        subtotalPriceSet { shopMoney { amount } }
        totalShippingPriceSet { shopMoney { amount } }
        totalTaxSet { shopMoney { amount } }
        totalPriceSet { shopMoney { amount } }
        lineItems(first: 250) {
          edges { node { sku title quantity originalUnitPriceSet { shopMoney { amount } } } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

// GetOrders implements sdk.Connector.
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
	api := c.client(s)
	log := sdk.Logger(ctx)
	for {
		var out ordersPage
		vars := map[string]any{"first": s.pageSize, "query": filter}
		if state.After != "" {
			vars["after"] = state.After
		}
		if err := api.query(ctx, ordersQuery, vars, &out); err != nil {
			return err
		}
		orders := make([]sdk.Order, 0, len(out.Orders.Edges))
		for i := range out.Orders.Edges {
			e := &out.Orders.Edges[i]
			if err := api.moreLineItems(ctx, &e.Node); err != nil {
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
		if err := pages.Send(orders, next.String()); err != nil {
			return err
		}
		log.Debug("page sent", "orders", len(orders), "more", out.Orders.PageInfo.HasNextPage)
		state = next
		if !out.Orders.PageInfo.HasNextPage {
			return nil
		}
	}
}

const lineItemsQuery = `query LineItems($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 250, after: $after) {
      edges { node { sku title quantity originalUnitPriceSet { shopMoney { amount } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`

// moreLineItems fetches the line items of an order beyond the first 250.
func (c *client) moreLineItems(ctx context.Context, o *shopOrder) error {
	for o.LineItems.PageInfo.HasNextPage {
		var out struct {
			Order *struct {
				LineItems lineItems `json:"lineItems"`
			} `json:"order"`
		}
		if err := c.query(ctx, lineItemsQuery, map[string]any{"id": o.ID, "after": o.LineItems.PageInfo.EndCursor}, &out); err != nil {
			return err
		}
		if out.Order == nil {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify order %s vanished while its line items were read", o.Name)
		}
		o.LineItems.Edges = append(o.LineItems.Edges, out.Order.LineItems.Edges...)
		o.LineItems.PageInfo = out.Order.LineItems.PageInfo
	}
	return nil
}

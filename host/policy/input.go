package policy

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Input is what one evaluation of the workflow sees as `input`.
type Input struct {
	// Order is the order as the channel sent it (input.order).
	Order *sdk.Order
	// Channel is input.channel.
	Channel ChannelInput
	// Now is input.now, an RFC 3339 time with nanoseconds.
	Now time.Time
	// Context is input.context, the facts the built-in hold reasons decide
	// on. When nil, the context of an installation without catalog,
	// routing or shipping data is used.
	Context *host.OrderContext
}

// ChannelInput is input.channel.
type ChannelInput struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

// Value builds the Rego input document directly as an ast.Value, without a
// JSON round trip. Every channel field of the order is present (empty
// strings, arrays and objects when the channel sent none) so that rules can
// rely on the shape; billing_address is absent when the order has none.
//
// The keys, booleans, small integers and empty strings are terms shared
// by every input (OPA changes no term of an input), so building one
// allocates little more than the order's own values.
func (in *Input) Value() ast.Value { return in.value(nil) }

// value is Value with the source terms taken from st (built afresh when
// st is nil).
func (in *Input) value(st *sourceTerms) ast.Value {
	return ast.NewObject(
		item("order", orderValue(in.Order)),
		item("channel", object(
			item("id", str(in.Channel.ID)),
			item("kind", str(in.Channel.Kind)),
		)),
		item("now", str(in.Now.UTC().Format(time.RFC3339Nano))),
		item("context", contextValue(in.context(), st)),
	)
}

func (in *Input) context() *host.OrderContext {
	if in.Context != nil {
		return in.Context
	}
	return host.BuildContext(in.Order, &host.Facts{Settings: host.DefaultSettings()})
}

func contextValue(c *host.OrderContext, st *sourceTerms) *ast.Term {
	lines := make([]*ast.Term, len(c.LineItems))
	for i := range c.LineItems {
		lines[i] = lineContextValue(&c.LineItems[i], st)
	}
	group := nullTerm
	if g := c.RoutingGroup; g != nil {
		group = object(item("id", str(g.ID)), item("name", str(g.Name)), item("default", boolean(g.Default)))
	}
	dups := make([]*ast.Term, len(c.Duplicates.Orders))
	for i, d := range c.Duplicates.Orders {
		dups[i] = object(
			item("id", str(d.ID)),
			item("channel_id", str(d.ChannelID)),
			item("external_id", str(d.ExternalID)),
			item("number", str(d.Number)),
			item("placed_at", str(d.PlacedAt.UTC().Format(time.RFC3339Nano))),
			item("status", str(string(d.Status))),
		)
	}
	return object(
		item("catalog", object(item("in_use", boolean(c.Catalog.InUse)))),
		item("line_items", ast.ArrayTerm(lines...)),
		item("routing_group", group),
		item("shipping", object(
			item("method", str(c.Shipping.Method)),
			item("channel_has_mappings", boolean(c.Shipping.ChannelHasMappings)),
			item("mapped", boolean(c.Shipping.Mapped)),
			item("policy", str(c.Shipping.Policy)),
		)),
		item("duplicates", object(
			item("enabled", boolean(c.Duplicates.Enabled)),
			item("window", str(c.Duplicates.Window)),
			item("orders", ast.ArrayTerm(dups...)),
			item("count", integer(int64(c.Duplicates.Count))),
			item("count_capped", boolean(c.Duplicates.CountCapped)),
		)),
		item("customer", object(
			item("email", str(c.Customer.Email)),
			item("orders", integer(int64(c.Customer.Orders))),
			item("orders_capped", boolean(c.Customer.OrdersCapped)),
		)),
	)
}

func lineContextValue(l *host.LineContext, st *sourceTerms) *ast.Term {
	catalog := nullTerm
	if e := l.Catalog; e != nil {
		catalog = object(item("sku", str(e.SKU)), item("title", str(e.Title)), item("managed", boolean(e.Managed)))
	}
	sources := make([]*ast.Term, len(l.Sources))
	for i := range l.Sources {
		if st != nil {
			sources[i] = st.term(&l.Sources[i])
		} else {
			sources[i] = sourceValue(&l.Sources[i])
		}
	}
	return object(
		item("index", integer(int64(l.Index))),
		item("sku", str(l.SKU)),
		item("quantity", integer(l.Quantity)),
		item("catalog", catalog),
		item("managed", boolean(l.Managed)),
		item("available", integer(l.Available)),
		item("available_disabled", integer(l.AvailableDisabled)),
		item("sources", ast.ArrayTerm(sources...)),
	)
}

// inputKeys are the terms of the input document's keys, shared by every
// input built; a key not listed (none of Value's) gets a term of its own.
var inputKeys = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, k := range []string{
		"order", "channel", "now", "context", "id", "kind", "catalog", "in_use", "line_items", "routing_group",
		"name", "default", "shipping", "method", "channel_has_mappings", "mapped", "policy", "duplicates",
		"enabled", "window", "orders", "count", "count_capped", "customer", "email", "orders_capped",
		"channel_id", "external_id", "number", "placed_at", "status", "index", "sku", "title", "quantity",
		"managed", "available", "available_disabled", "sources", "disabled_by", "unit_price", "currency",
		"phone", "shipping_address", "shipping_method", "totals", "subtotal", "tax", "total", "note", "tags",
		"custom_fields", "billing_address", "company", "address1", "address2", "city", "region",
		"postal_code", "country",
	} {
		m[k] = ast.StringTerm(k)
	}
	return m
}()

var (
	nullTerm        = ast.NullTerm()
	emptyStringTerm = ast.StringTerm("")
)

func item(key string, v *ast.Term) [2]*ast.Term {
	k, ok := inputKeys[key]
	if !ok {
		k = ast.StringTerm(key)
	}
	return [2]*ast.Term{k, v}
}

func object(items ...[2]*ast.Term) *ast.Term { return ast.NewTerm(ast.NewObject(items...)) }

// str is a string term; the empty string's is shared.
func str(s string) *ast.Term {
	if s == "" {
		return emptyStringTerm
	}
	return ast.StringTerm(s)
}

// boolean and integer are OPA's interned terms where it has them.
func boolean(b bool) *ast.Term { return ast.InternedTerm(b) }

func integer(n int64) *ast.Term {
	if n >= math.MinInt && n <= math.MaxInt {
		return ast.InternedTerm(int(n))
	}
	return ast.NumberTerm(json.Number(strconv.FormatInt(n, 10)))
}

func orderValue(o *sdk.Order) *ast.Term {
	lines := make([]*ast.Term, len(o.LineItems))
	for i, li := range o.LineItems {
		lines[i] = object(
			item("sku", str(li.SKU)),
			item("title", str(li.Title)),
			item("quantity", integer(li.Quantity)),
			item("unit_price", str(string(li.UnitPrice))),
		)
	}
	tags := make([]*ast.Term, len(o.Tags))
	for i, t := range o.Tags {
		tags[i] = str(t)
	}
	keys := make([]string, 0, len(o.CustomFields))
	for k := range o.CustomFields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	custom := ast.NewObjectWithCapacity(len(keys))
	for _, k := range keys {
		custom.Insert(ast.StringTerm(k), str(o.CustomFields[k]))
	}
	order := ast.NewObject(
		item("id", str(o.ID)),
		item("channel_id", str(o.ChannelID)),
		item("external_id", str(o.ExternalID)),
		item("number", str(o.Number)),
		item("placed_at", str(o.PlacedAt.UTC().Format(time.RFC3339Nano))),
		item("currency", str(o.Currency)),
		item("customer", object(
			item("name", str(o.Customer.Name)),
			item("email", str(o.Customer.Email)),
			item("phone", str(o.Customer.Phone)),
		)),
		item("shipping_address", addressValue(&o.ShippingAddress)),
		item("shipping_method", str(o.ShippingMethod)),
		item("line_items", ast.ArrayTerm(lines...)),
		item("totals", object(
			item("subtotal", str(string(o.Totals.Subtotal))),
			item("shipping", str(string(o.Totals.Shipping))),
			item("tax", str(string(o.Totals.Tax))),
			item("total", str(string(o.Totals.Total))),
		)),
		item("note", str(o.Note)),
		item("tags", ast.ArrayTerm(tags...)),
		item("custom_fields", ast.NewTerm(custom)),
	)
	if o.BillingAddress != nil {
		order.Insert(inputKeys["billing_address"], addressValue(o.BillingAddress))
	}
	return ast.NewTerm(order)
}

func addressValue(a *sdk.Address) *ast.Term {
	return object(
		item("name", str(a.Name)),
		item("company", str(a.Company)),
		item("address1", str(a.Address1)),
		item("address2", str(a.Address2)),
		item("city", str(a.City)),
		item("region", str(a.Region)),
		item("postal_code", str(a.PostalCode)),
		item("country", str(a.Country)),
	)
}

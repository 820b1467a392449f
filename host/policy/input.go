package policy

import (
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
func (in *Input) Value() ast.Value {
	return ast.NewObject(
		item("order", orderValue(in.Order)),
		item("channel", ast.NewObject(
			item("id", ast.String(in.Channel.ID)),
			item("kind", ast.String(in.Channel.Kind)),
		)),
		item("now", ast.String(in.Now.UTC().Format(time.RFC3339Nano))),
		item("context", contextValue(in.context())),
	)
}

func (in *Input) context() *host.OrderContext {
	if in.Context != nil {
		return in.Context
	}
	return host.BuildContext(in.Order, &host.Facts{Settings: host.DefaultSettings()})
}

func contextValue(c *host.OrderContext) ast.Value {
	lines := make([]*ast.Term, len(c.LineItems))
	for i := range c.LineItems {
		lines[i] = ast.NewTerm(lineContextValue(&c.LineItems[i]))
	}
	group := ast.Value(ast.Null{})
	if g := c.RoutingGroup; g != nil {
		group = ast.NewObject(item("id", str(g.ID)), item("name", str(g.Name)), item("default", ast.Boolean(g.Default)))
	}
	dups := make([]*ast.Term, len(c.Duplicates.Orders))
	for i, d := range c.Duplicates.Orders {
		dups[i] = ast.NewTerm(ast.NewObject(
			item("id", str(d.ID)),
			item("channel_id", str(d.ChannelID)),
			item("external_id", str(d.ExternalID)),
			item("number", str(d.Number)),
			item("placed_at", str(d.PlacedAt.UTC().Format(time.RFC3339Nano))),
			item("status", str(string(d.Status))),
		))
	}
	return ast.NewObject(
		item("catalog", ast.NewObject(item("in_use", ast.Boolean(c.Catalog.InUse)))),
		item("line_items", ast.NewArray(lines...)),
		item("routing_group", group),
		item("shipping", ast.NewObject(
			item("method", str(c.Shipping.Method)),
			item("channel_has_mappings", ast.Boolean(c.Shipping.ChannelHasMappings)),
			item("mapped", ast.Boolean(c.Shipping.Mapped)),
			item("policy", str(c.Shipping.Policy)),
		)),
		item("duplicates", ast.NewObject(
			item("enabled", ast.Boolean(c.Duplicates.Enabled)),
			item("window", str(c.Duplicates.Window)),
			item("orders", ast.NewArray(dups...)),
			item("count", integer(int64(c.Duplicates.Count))),
			item("count_capped", ast.Boolean(c.Duplicates.CountCapped)),
		)),
		item("customer", ast.NewObject(
			item("email", str(c.Customer.Email)),
			item("orders", integer(int64(c.Customer.Orders))),
			item("orders_capped", ast.Boolean(c.Customer.OrdersCapped)),
		)),
	)
}

func lineContextValue(l *host.LineContext) ast.Value {
	catalog := ast.Value(ast.Null{})
	if e := l.Catalog; e != nil {
		catalog = ast.NewObject(item("sku", str(e.SKU)), item("title", str(e.Title)), item("managed", ast.Boolean(e.Managed)))
	}
	sources := make([]*ast.Term, len(l.Sources))
	for i, s := range l.Sources {
		sources[i] = ast.NewTerm(ast.NewObject(
			item("id", str(s.ID)),
			item("name", str(s.Name)),
			item("enabled", ast.Boolean(s.Enabled)),
			item("disabled_by", str(s.DisabledBy)),
			item("available", integer(s.Available)),
		))
	}
	return ast.NewObject(
		item("index", integer(int64(l.Index))),
		item("sku", str(l.SKU)),
		item("quantity", integer(l.Quantity)),
		item("catalog", catalog),
		item("managed", ast.Boolean(l.Managed)),
		item("available", integer(l.Available)),
		item("available_disabled", integer(l.AvailableDisabled)),
		item("sources", ast.NewArray(sources...)),
	)
}

func integer(n int64) ast.Value { return ast.Number(strconv.FormatInt(n, 10)) }

func item(key string, v ast.Value) [2]*ast.Term {
	return [2]*ast.Term{ast.StringTerm(key), ast.NewTerm(v)}
}

func str(s string) ast.Value { return ast.String(s) }

func orderValue(o *sdk.Order) ast.Value {
	lines := make([]*ast.Term, len(o.LineItems))
	for i, li := range o.LineItems {
		lines[i] = ast.NewTerm(ast.NewObject(
			item("sku", str(li.SKU)),
			item("title", str(li.Title)),
			item("quantity", integer(li.Quantity)),
			item("unit_price", str(string(li.UnitPrice))),
		))
	}
	tags := make([]*ast.Term, len(o.Tags))
	for i, t := range o.Tags {
		tags[i] = ast.StringTerm(t)
	}
	keys := make([]string, 0, len(o.CustomFields))
	for k := range o.CustomFields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	custom := ast.NewObjectWithCapacity(len(keys))
	for _, k := range keys {
		custom.Insert(ast.StringTerm(k), ast.StringTerm(o.CustomFields[k]))
	}
	order := ast.NewObject(
		item("id", str(o.ID)),
		item("channel_id", str(o.ChannelID)),
		item("external_id", str(o.ExternalID)),
		item("number", str(o.Number)),
		item("placed_at", str(o.PlacedAt.UTC().Format(time.RFC3339Nano))),
		item("currency", str(o.Currency)),
		item("customer", ast.NewObject(
			item("name", str(o.Customer.Name)),
			item("email", str(o.Customer.Email)),
			item("phone", str(o.Customer.Phone)),
		)),
		item("shipping_address", addressValue(&o.ShippingAddress)),
		item("shipping_method", str(o.ShippingMethod)),
		item("line_items", ast.NewArray(lines...)),
		item("totals", ast.NewObject(
			item("subtotal", str(string(o.Totals.Subtotal))),
			item("shipping", str(string(o.Totals.Shipping))),
			item("tax", str(string(o.Totals.Tax))),
			item("total", str(string(o.Totals.Total))),
		)),
		item("note", str(o.Note)),
		item("tags", ast.NewArray(tags...)),
		item("custom_fields", custom),
	)
	if o.BillingAddress != nil {
		order.Insert(ast.StringTerm("billing_address"), ast.NewTerm(addressValue(o.BillingAddress)))
	}
	return order
}

func addressValue(a *sdk.Address) ast.Value {
	return ast.NewObject(
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

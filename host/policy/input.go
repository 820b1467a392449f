package policy

import (
	"sort"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

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
	)
}

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
			item("quantity", ast.Number(strconv.FormatInt(li.Quantity, 10))),
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

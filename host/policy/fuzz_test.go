package policy_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// FuzzInput builds the Rego input of arbitrary valid orders and has the
// shipped workflow decide on them. Building must not panic, input.order
// must carry the order's own values, and no valid order may make the
// shipped policies fail (a policy_error hold).
func FuzzInput(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "orders", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"external_id":"x","number":"","placed_at":"2026-11-28T09:30:00Z","currency":"EUR","shipping_address":{"country":"DE"},` +
		`"line_items":[{"quantity":9007199254740993,"unit_price":"0.00"},{"sku":"\u2028","quantity":1,"unit_price":"1.5"}],"totals":{"total":"99999999999999999999.99"},"custom_fields":{"":"\ud800"}}`))
	// A generous deadline: a fuzz worker shares the CPU with others, and a
	// deadline missed there is not the policies' fault.
	e := policy.NewEngine(shippedPolicies, nil, time.Minute)
	ctx := context.Background()
	if _, err := e.Reload(ctx); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o sdk.Order
		if json.Unmarshal(data, &o) != nil || o.Validate() != nil {
			return
		}
		in := &policy.Input{Order: &o, Channel: policy.ChannelInput{ID: "shop", Kind: "b2b"}, Now: time.Now()}
		v := in.Value()
		for ref, want := range map[string]ast.Value{
			"order.external_id":              ast.String(o.ExternalID),
			"order.currency":                 ast.String(o.Currency),
			"order.shipping_address.country": ast.String(o.ShippingAddress.Country),
		} {
			got, err := v.Find(ast.MustParseRef("x." + ref)[1:])
			if err != nil || got.Compare(want) != 0 {
				t.Fatalf("input.%s = %v (%v), want %v", ref, got, err, want)
			}
		}
		lines, err := v.Find(ast.MustParseRef("x.order.line_items")[1:])
		if err != nil || lines.(*ast.Array).Len() != len(o.LineItems) {
			t.Fatalf("input.order.line_items = %v (%v) for %d lines", lines, err, len(o.LineItems))
		}
		if d := e.Evaluate(ctx, in); d.Error != "" {
			t.Fatalf("the shipped workflow failed on a valid order: %s\n%s", d.Error, data)
		}
	})
}

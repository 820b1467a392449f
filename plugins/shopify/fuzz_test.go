package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ordergate/ordergate/sdk"
)

// FuzzMapOrder feeds arbitrary JSON as a Shopify order node to the
// mapping. It must not panic; it refuses only an order without id or
// with a time JSON cannot carry; a mapped order keeps every line item,
// the order id and Shopify's cancellation (a cancel_reason only with
// canceled_at, as the host requires); and it crosses the plugin protocol
// (JSON of the canonical model, decoded strictly by the host) intact.
func FuzzMapOrder(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("shopifytest", "testdata", "order-1203.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"id":"gid://shopify/Order/1","lineItems":{"edges":[{"node":{"sku":null,"quantity":-3}}]}}`))
	f.Add([]byte(`{"id":"1","billingAddress":{"countryCodeV2":"DE"},"customAttributes":[{"key":"Gift Wrap?","value":"\u0000"}],"totalPriceSet":{"shopMoney":{"amount":"NaN"}}}`))
	f.Add([]byte(`{"id":"","processedAt":null}`))
	f.Add([]byte(`{"id":"gid://shopify/Order/2","cancelledAt":"2026-11-29T10:00:00+01:00","cancelReason":"FRAUD"}`))
	f.Add([]byte(`{"id":"3","cancelledAt":null,"cancelReason":"CUSTOMER","customer":{"defaultEmailAddress":null,"defaultPhoneNumber":{"phoneNumber":"+1"}}}`))
	f.Add([]byte(`{"id":"4","createdAt":"9999-12-31T23:59:59-23:59","cancelledAt":"0000-01-01T00:00:00+01:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s shopOrder
		if json.Unmarshal(data, &s) != nil {
			return
		}
		o, err := mapOrder(&s)
		if err != nil {
			outOfRange := !encodable(s.CreatedAt) || (s.ProcessedAt != nil && !encodable(*s.ProcessedAt)) || (s.CancelledAt != nil && !encodable(*s.CancelledAt))
			if s.ID != "" && !outOfRange {
				t.Fatalf("an order with id %q was refused: %v", s.ID, err)
			}
			return
		}
		if (s.CancelledAt == nil) != (o.CanceledAt == nil) || (o.CanceledAt != nil && !o.CanceledAt.Equal(*s.CancelledAt)) {
			t.Fatalf("cancelledAt %v mapped to canceled_at %v", s.CancelledAt, o.CanceledAt)
		}
		if o.CancelReason != "" && o.CanceledAt == nil {
			t.Fatalf("cancel_reason %q without canceled_at", o.CancelReason)
		}
		if o.ExternalID == "" && s.ID != "gid://shopify/Order/" {
			t.Fatalf("order id %q mapped to an empty external id", s.ID)
		}
		if len(o.LineItems) != len(s.LineItems.Edges) {
			t.Fatalf("%d line items mapped to %d", len(s.LineItems.Edges), len(o.LineItems))
		}
		wire, err := json.Marshal(&o)
		if err != nil {
			t.Fatalf("the mapped order does not encode: %v", err)
		}
		var back sdk.Order
		dec := json.NewDecoder(bytes.NewReader(wire))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&back); err != nil {
			t.Fatalf("the host cannot decode the mapped order: %v\n%s", err, wire)
		}
		if again, _ := json.Marshal(&back); !bytes.Equal(again, wire) {
			t.Fatalf("the mapped order changed crossing the wire:\n%s\n%s", wire, again)
		}
	})
}

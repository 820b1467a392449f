package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/sdktest"
)

// fixtureOrder is a valid order with the given external id.
func fixtureOrder(id string) map[string]any {
	return map[string]any{
		"external_id": id, "number": "#" + id, "placed_at": "2026-11-28T09:30:00Z", "currency": "USD",
		"shipping_address": map[string]any{"address1": "1 Main St", "city": "Austin", "country": "US"},
		"line_items":       []any{map[string]any{"sku": "V789", "quantity": 1, "unit_price": "19.99"}},
		"totals":           map[string]any{"total": "19.99"},
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConformance runs the SDK's conformance kit on the file connector.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Suite{
		Connector: New(),
		Fixture: func(t *testing.T) sdk.Config {
			dir := t.TempDir()
			writeJSON(t, filepath.Join(dir, "a.json"), []any{fixtureOrder("a1"), fixtureOrder("a2"), fixtureOrder("a3")})
			var nd []byte
			for i := range 3 {
				line, _ := json.Marshal(fixtureOrder(fmt.Sprintf("b%d", i)))
				nd = append(append(nd, line...), '\n')
			}
			if err := os.WriteFile(filepath.Join(dir, "b.ndjson"), nd, 0o644); err != nil {
				t.Fatal(err)
			}
			csv := "number,placed_at,currency,shipping_address.address1,shipping_address.city,shipping_address.country,totals.total,line_items.sku,line_items.quantity,line_items.unit_price\n" +
				"c1,2026-11-28T09:30:00Z,USD,1 Main St,Austin,US,30.00,A1,1,10.00\n" +
				"c1,2026-11-28T09:30:00Z,USD,1 Main St,Austin,US,30.00,B2,2,10.00\n"
			if err := os.WriteFile(filepath.Join(dir, "c.csv"), []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
			return sdk.Config{"folder": dir, "page_size": 2}
		},
	})
}

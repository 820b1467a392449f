package policy_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// TestInputMatchesJSON checks that input.context, built directly as Rego
// values, is exactly the JSON encoding of the Go types rule authors read
// about: the same names, the same shapes, nothing missing. (input.order
// differs on purpose: it has every field, where the JSON omits empty ones.)
func TestInputMatchesJSON(t *testing.T) {
	o := loadOrder(t, "order-1203.json")
	o.ID, o.ChannelID = "01JDRK0000000000000000000", "shopify"
	o.BillingAddress = &sdk.Address{Name: "Ada", Address1: "2 Side St", City: "Austin", Country: "US"}
	o.LineItems = append(o.LineItems, sdk.LineItem{Title: "Gift wrap", Quantity: 1, UnitPrice: "0.00"})
	placed := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	facts := &host.Facts{
		CatalogInUse: true,
		Catalog:      map[string]*host.CatalogItem{"V789": {SKU: "V789", Title: "Valve", Managed: true}},
		Group: &host.RoutingGroup{ID: "main", Name: "Main", Default: true, Sources: []host.GroupSource{
			{SourceID: "austin", Enabled: true}, {SourceID: "dallas", Enabled: false}, {SourceID: "gone", Enabled: true},
		}},
		Sources: map[string]*host.Source{
			"austin": {ID: "austin", Name: "Austin DC", Enabled: true},
			"dallas": {ID: "dallas", Name: "Dallas DC", Enabled: true},
		},
		Stock:      map[string]map[string]int64{"V789": {"austin": 2, "dallas": 7}},
		Shipping:   &host.ShippingMappings{ChannelID: "shopify", Methods: map[string]string{"Standard": "ground"}},
		Duplicates: []host.DuplicateCandidate{{ID: "01JDR", ChannelID: "acme", ExternalID: "PO-1", Number: "1", PlacedAt: placed, Status: sdk.StatusOnHold}},
		Settings:   host.DefaultSettings(),
	}
	ctx := host.BuildContext(o, facts)
	in := &policy.Input{Order: o, Channel: policy.ChannelInput{ID: "shopify", Kind: "b2c"}, Now: placed, Context: ctx}

	data, err := json.Marshal(map[string]any{"channel": in.Channel, "context": ctx})
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	wantValue, err := ast.InterfaceToValue(generic)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"channel", "context"} {
		got, err := in.Value().Find(ast.Ref{ast.StringTerm(key)})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := wantValue.Find(ast.Ref{ast.StringTerm(key)})
		if got.Compare(want) != 0 {
			t.Errorf("input.%s differs from its JSON form\n got: %v\nwant: %v", key, got, want)
		}
	}

	line := ctx.LineItems[0]
	if line.Available != 2 || line.AvailableDisabled != 7 || len(line.Sources) != 2 || line.Sources[1].DisabledBy != "group" {
		t.Errorf("line context = %+v", line)
	}
	if !ctx.Shipping.Mapped || ctx.Shipping.Policy != "ground" || ctx.LineItems[1].Managed {
		t.Errorf("context = %+v", ctx)
	}
}

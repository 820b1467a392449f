package sdk_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/sdk"
)

func validOrder(t *testing.T) *sdk.Order {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "order-1203.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o sdk.Order
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

func TestValidOrderPasses(t *testing.T) {
	if err := validOrder(t).Validate(); err != nil {
		t.Fatalf("the fixture order must be valid: %v", err)
	}
}

func TestValidateNamesEachBadField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o *sdk.Order)
		fields []string
	}{
		{"missing external id", func(o *sdk.Order) { o.ExternalID = "" }, []string{"external_id"}},
		{"missing number", func(o *sdk.Order) { o.Number = "" }, []string{"number"}},
		{"unknown currency", func(o *sdk.Order) { o.Currency = "usd" }, []string{"currency"}},
		{"invalid country", func(o *sdk.Order) { o.ShippingAddress.Country = "XX" }, []string{"shipping_address.country"}},
		{"billing country", func(o *sdk.Order) { o.BillingAddress = &sdk.Address{Country: "USA"} }, []string{"billing_address.country"}},
		{"zero quantity", func(o *sdk.Order) { o.LineItems[0].Quantity = 0 }, []string{"line_items[0].quantity"}},
		{"negative quantity", func(o *sdk.Order) { o.LineItems[0].Quantity = -3 }, []string{"line_items[0].quantity"}},
		{"huge quantity", func(o *sdk.Order) { o.LineItems[0].Quantity = sdk.MaxQuantity + 1 }, []string{"line_items[0].quantity"}},
		{"float money", func(o *sdk.Order) { o.LineItems[0].UnitPrice = "1e3" }, []string{"line_items[0].unit_price"}},
		{"negative money", func(o *sdk.Order) { o.Totals.Total = "-1.00" }, []string{"totals.total"}},
		{"too many decimals", func(o *sdk.Order) { o.Totals.Tax = "1.00001" }, []string{"totals.tax"}},
		{"no line items", func(o *sdk.Order) { o.LineItems = nil }, []string{"line_items"}},
		{"too many line items", func(o *sdk.Order) {
			o.LineItems = make([]sdk.LineItem, sdk.MaxLineItems+1)
		}, []string{"line_items"}},
		{"bad email", func(o *sdk.Order) { o.Customer.Email = "not-an-email" }, []string{"customer.email"}},
		{"invalid utf-8", func(o *sdk.Order) { o.Note = "bad \xff byte" }, []string{"note"}},
		{"bad custom field key", func(o *sdk.Order) { o.CustomFields = map[string]string{"a b": "x"} }, []string{"custom_fields"}},
		{"host-owned status", func(o *sdk.Order) { o.Status = sdk.StatusOpen }, []string{"status"}},
		{"host-owned id and holds", func(o *sdk.Order) { o.ID = "x"; o.Holds = []sdk.Hold{{Reason: "custom_rule"}} }, []string{"id", "holds"}},
		{"several at once", func(o *sdk.Order) { o.Currency = ""; o.LineItems[0].Quantity = 0 }, []string{"currency", "line_items[0].quantity"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := validOrder(t)
			tc.mutate(o)
			err := o.Validate()
			ve, ok := err.(sdk.ValidationError)
			if !ok {
				t.Fatalf("Validate() = %v, want a ValidationError", err)
			}
			var got []string
			for _, fe := range ve {
				got = append(got, fe.Field)
				if fe.Detail == "" {
					t.Errorf("field %s has no detail", fe.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields at fault = %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestMoney(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "12.50": true, "1000000": true, "0.0001": true,
		"": false, "01": false, "1.": false, ".5": false, "-1": false, "1,00": false, "1e3": false, " 1": false, "1.23456": false,
	} {
		if got := sdk.Money(s).Valid(); got != want {
			t.Errorf("Money(%q).Valid() = %v, want %v", s, got, want)
		}
	}
}

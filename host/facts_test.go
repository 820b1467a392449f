package host_test

import (
	"fmt"
	"testing"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

func TestFingerprint(t *testing.T) {
	base := sdk.Order{
		Number:          "#1",
		ShippingAddress: sdk.Address{Name: "Ada", Address1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"},
		LineItems:       []sdk.LineItem{{SKU: "A1", Quantity: 2}, {SKU: "B2", Quantity: 1}},
	}
	fp := host.Fingerprint(&base)
	for _, tc := range []struct {
		name   string
		change func(o *sdk.Order)
		same   bool
	}{
		{"another number, customer, channel and price", func(o *sdk.Order) {
			o.Number, o.ChannelID, o.Customer.Name = "#2", "acme", "Bob"
			o.LineItems[0].UnitPrice = "9.99"
		}, true},
		{"address in other case and spacing", func(o *sdk.Order) { o.ShippingAddress.Address1 = "  1 MAIN   st " }, true},
		{"recipient name differs", func(o *sdk.Order) { o.ShippingAddress.Name = "A. Lovelace" }, true},
		{"lines in another order", func(o *sdk.Order) { o.LineItems[0], o.LineItems[1] = o.LineItems[1], o.LineItems[0] }, true},
		{"one SKU split over two lines", func(o *sdk.Order) {
			o.LineItems = []sdk.LineItem{{SKU: "A1", Quantity: 1}, {SKU: "B2", Quantity: 1}, {SKU: "A1", Quantity: 1}}
		}, true},
		{"another quantity", func(o *sdk.Order) { o.LineItems[0].Quantity = 3 }, false},
		{"another item", func(o *sdk.Order) { o.LineItems[1].SKU = "C3" }, false},
		{"another postal code", func(o *sdk.Order) { o.ShippingAddress.PostalCode = "78702" }, false},
		{"another country", func(o *sdk.Order) { o.ShippingAddress.Country = "CA" }, false},
	} {
		o := base
		o.LineItems = append([]sdk.LineItem(nil), base.LineItems...)
		tc.change(&o)
		if got := host.Fingerprint(&o) == fp; got != tc.same {
			t.Errorf("%s: same fingerprint = %v, want %v", tc.name, got, tc.same)
		}
	}
}

func TestBuildContext(t *testing.T) {
	o := &sdk.Order{ShippingMethod: "Standard", LineItems: []sdk.LineItem{{SKU: "A1", Quantity: 2}, {Quantity: 1}}}
	empty := host.BuildContext(o, &host.Facts{Settings: host.DefaultSettings()})
	if empty.Catalog.InUse || empty.RoutingGroup != nil || empty.Shipping.ChannelHasMappings || !empty.Duplicates.Enabled ||
		len(empty.LineItems) != 2 || empty.LineItems[1].Index != 1 || empty.Duplicates.Orders == nil || empty.LineItems[0].Sources == nil {
		t.Errorf("context of an empty installation = %+v", empty)
	}

	f := &host.Facts{
		CatalogInUse: true,
		Catalog:      map[string]*host.CatalogItem{"A1": {SKU: "A1", Managed: false}, "": {SKU: ""}},
		Group: &host.RoutingGroup{ID: "g", Sources: []host.GroupSource{
			{SourceID: "on", Enabled: true}, {SourceID: "off-in-group", Enabled: false}, {SourceID: "off", Enabled: true},
		}},
		Sources: map[string]*host.Source{
			"on": {ID: "on", Enabled: true}, "off-in-group": {ID: "off-in-group", Enabled: true}, "off": {ID: "off", Enabled: false},
		},
		Stock:    map[string]map[string]int64{"A1": {"on": 1, "off-in-group": 2, "off": 4}},
		Shipping: &host.ShippingMappings{Methods: map[string]string{"Express": "air"}},
		Settings: host.DefaultSettings(),
	}
	c := host.BuildContext(o, f)
	a1 := c.LineItems[0]
	if a1.Catalog == nil || a1.Managed || a1.Available != 1 || a1.AvailableDisabled != 6 {
		t.Errorf("A1 = %+v", a1)
	}
	if a1.Sources[1].DisabledBy != "group" || a1.Sources[2].DisabledBy != "source" || a1.Sources[0].DisabledBy != "" {
		t.Errorf("A1 sources = %+v", a1.Sources)
	}
	if c.LineItems[1].Catalog != nil {
		t.Error("a line without SKU matched a catalog item")
	}
	if !c.Shipping.ChannelHasMappings || c.Shipping.Mapped {
		t.Errorf("shipping = %+v", c.Shipping)
	}
}

// TestFactListsAreBounded: what an order's facts read whole (a routing
// group, a channel's shipping mappings) is bounded when it is stored.
func TestFactListsAreBounded(t *testing.T) {
	many := func(n int, f func(i int)) {
		for i := range n {
			f(i)
		}
	}
	g := &host.RoutingGroup{ID: "main", Name: "Main"}
	many(host.MaxGroupSources+1, func(i int) { g.Sources = append(g.Sources, host.GroupSource{SourceID: fmt.Sprint("s", i)}) })
	many(host.MaxGroupChannels+1, func(i int) { g.Channels = append(g.Channels, fmt.Sprint("c", i)) })
	fields := map[string]bool{}
	for _, e := range g.Validate() {
		fields[e.Field] = true
	}
	if !fields["sources"] || !fields["channels"] {
		t.Errorf("a routing group over the bounds validates with errors on %v", fields)
	}
	g.Sources, g.Channels = g.Sources[:host.MaxGroupSources], g.Channels[:host.MaxGroupChannels]
	if errs := g.Validate(); len(errs) != 0 {
		t.Errorf("a routing group at the bounds: %v", errs)
	}
	m := &host.ShippingMappings{Methods: map[string]string{}}
	many(host.MaxShippingMethods+1, func(i int) { m.Methods[fmt.Sprint("m", i)] = "ground" })
	if errs := m.Validate(); len(errs) != 1 || errs[0].Field != "methods" {
		t.Errorf("shipping mappings over the bound: %v", errs)
	}
}

// TestAddLookAlikesKeepsTheBounds: look-alikes of the same call added to
// the store's keep the most recent MaxDuplicatesListed and the count.
func TestAddLookAlikesKeepsTheBounds(t *testing.T) {
	f := &host.Facts{DuplicateCount: host.MaxDuplicatesCounted - 1}
	for i := range host.MaxDuplicatesListed {
		f.Duplicates = append(f.Duplicates, host.DuplicateCandidate{ID: fmt.Sprint("stored-", i)})
	}
	f.AddLookAlikes(host.DuplicateCandidate{ID: "batch-0"}, host.DuplicateCandidate{ID: "batch-1"})
	if len(f.Duplicates) != host.MaxDuplicatesListed || f.Duplicates[0].ID != "stored-2" || f.Duplicates[len(f.Duplicates)-1].ID != "batch-1" {
		t.Errorf("listed %d: first %s last %s", len(f.Duplicates), f.Duplicates[0].ID, f.Duplicates[len(f.Duplicates)-1].ID)
	}
	if f.DuplicateCount != host.MaxDuplicatesCounted || !f.DuplicateCountCapped {
		t.Errorf("count %d capped %v", f.DuplicateCount, f.DuplicateCountCapped)
	}
}

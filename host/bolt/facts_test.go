package bolt_test

import (
	"context"
	"testing"

	"github.com/ordergate/ordergate/host"
)

// TestFactsFollowConfigurationChanges: Facts decodes the settings, the
// routing group, its sources and the shipping mappings once per version of
// each (the decoded values are shared between calls), and a change of any
// of them shows in the next facts.
func TestFactsFollowConfigurationChanges(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	defer db.Close()
	if err := db.CreateChannel(ctx, &host.Channel{ID: "shopify", Name: "Shopify", Kind: "b2c"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"austin", "dallas"} {
		if err := db.CreateSource(ctx, &host.Source{ID: id, Name: id, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	group := &host.RoutingGroup{ID: "main", Name: "Main", Default: true,
		Sources: []host.GroupSource{{SourceID: "austin", Enabled: true}, {SourceID: "dallas", Enabled: true}}}
	if err := db.CreateRoutingGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	q := host.FactsQuery{ChannelID: "shopify", SKUs: []string{"V789"}}
	facts := func() *host.Facts {
		t.Helper()
		f, err := db.Facts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}

	first, again := facts(), facts()
	if first.Group == nil || first.Group.ID != "main" || len(first.Sources) != 2 || first.Shipping != nil {
		t.Fatalf("facts = %+v", first)
	}
	if again.Group != first.Group || again.Sources["austin"] != first.Sources["austin"] {
		t.Error("unchanged group and sources were decoded again")
	}

	if _, err := db.UpdateSource(ctx, "austin", func(s *host.Source) error { s.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateRoutingGroup(ctx, "main", func(g *host.RoutingGroup) error { g.Sources[1].Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.PutShippingMappings(ctx, &host.ShippingMappings{ChannelID: "shopify", Methods: map[string]string{"Standard": "ground"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateSettings(ctx, func(s *host.Settings) error {
		s.DuplicateProtection.Enabled = !s.DuplicateProtection.Enabled
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	changed := facts()
	if changed.Sources["austin"].Enabled || !changed.Sources["dallas"].Enabled {
		t.Errorf("sources after disabling austin = %+v, %+v", changed.Sources["austin"], changed.Sources["dallas"])
	}
	if changed.Group.Sources[1].Enabled {
		t.Errorf("group after switching dallas off = %+v", changed.Group)
	}
	if changed.Shipping == nil || changed.Shipping.Methods["Standard"] != "ground" {
		t.Errorf("shipping after mapping Standard = %+v", changed.Shipping)
	}
	if changed.Settings.DuplicateProtection.Enabled == first.Settings.DuplicateProtection.Enabled {
		t.Errorf("duplicate protection still %v after switching it", changed.Settings.DuplicateProtection.Enabled)
	}
	// What the earlier facts hold is not changed under them.
	if !first.Sources["austin"].Enabled || !first.Group.Sources[1].Enabled {
		t.Error("a change rewrote the values of facts read before it")
	}
}

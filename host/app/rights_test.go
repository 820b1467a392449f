package app_test

import (
	"context"
	"testing"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/host/app"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/sdk"
)

// TestServicesCheckTheActor: every use case that changes something checks
// the actor in its context itself, whatever calls it: none is
// unauthorized, a reseller key is forbidden, an operator key is forbidden
// what is not the work of the queue, and nothing changes.
func TestServicesCheckTheActor(t *testing.T) {
	db := e2e.OpenStore(t)
	a, err := app.New(context.Background(), app.Config{Store: db, Policies: "../../policies", Plugins: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	name := "x"
	cases := map[string]func(ctx context.Context) error{
		"orders.Release": func(ctx context.Context) error { _, err := a.Orders.Release(ctx, "o", ""); return err },
		"orders.Cancel":  func(ctx context.Context) error { _, err := a.Orders.Cancel(ctx, "o", ""); return err },
		"orders.Edit": func(ctx context.Context) error {
			_, err := a.Orders.Edit(ctx, "o", &sdk.Edit{AddTags: []string{"t"}}, "")
			return err
		},
		"orders.Reevaluate": func(ctx context.Context) error { _, err := a.Orders.Reevaluate(ctx, "o"); return err },
		"orders.ReevaluateMatching": func(ctx context.Context) error {
			_, err := a.Orders.ReevaluateMatching(ctx, host.OrderFilter{})
			return err
		},
		"channels.Create": func(ctx context.Context) error {
			_, err := a.Channels.Create(ctx, &host.ChannelRequest{ID: "c", Kind: host.ChannelB2B})
			return err
		},
		"channels.Update": func(ctx context.Context) error {
			_, err := a.Channels.Update(ctx, "c", &host.ChannelPatch{Name: &name})
			return err
		},
		"channels.Delete": func(ctx context.Context) error { return a.Channels.Delete(ctx, "c") },
		"catalog.PutItems": func(ctx context.Context) error {
			_, err := a.Catalog.PutItems(ctx, &host.CatalogRequest{Items: []host.CatalogItemRequest{{SKU: "A"}}})
			return err
		},
		"catalog.DeleteItem": func(ctx context.Context) error { return a.Catalog.DeleteItem(ctx, "A") },
		"catalog.CreateSource": func(ctx context.Context) error {
			_, err := a.Catalog.CreateSource(ctx, &host.SourceRequest{ID: "s", Name: "S"})
			return err
		},
		"catalog.UpdateSource": func(ctx context.Context) error {
			_, err := a.Catalog.UpdateSource(ctx, "s", &host.SourcePatch{Name: &name})
			return err
		},
		"catalog.DeleteSource": func(ctx context.Context) error { return a.Catalog.DeleteSource(ctx, "s") },
		"catalog.SetInventory": func(ctx context.Context) error {
			_, err := a.Catalog.SetInventory(ctx, nil, host.InventoryMerge)
			return err
		},
		"catalog.CreateRoutingGroup": func(ctx context.Context) error {
			_, err := a.Catalog.CreateRoutingGroup(ctx, &host.RoutingGroupRequest{ID: "g", Name: "G"})
			return err
		},
		"catalog.UpdateRoutingGroup": func(ctx context.Context) error {
			_, err := a.Catalog.UpdateRoutingGroup(ctx, "g", &host.RoutingGroupPatch{Name: &name})
			return err
		},
		"catalog.DeleteRoutingGroup": func(ctx context.Context) error { return a.Catalog.DeleteRoutingGroup(ctx, "g") },
		"catalog.PutShippingMappings": func(ctx context.Context) error {
			_, err := a.Catalog.PutShippingMappings(ctx, "c", map[string]string{})
			return err
		},
		"catalog.UpdateSettings": func(ctx context.Context) error {
			_, err := a.Catalog.UpdateSettings(ctx, &host.SettingsPatch{})
			return err
		},
		"destinations.Create": func(ctx context.Context) error {
			_, _, err := a.Destinations.Create(ctx, &host.DestinationRequest{Name: "d", Kind: host.DestinationLog})
			return err
		},
		"destinations.Update": func(ctx context.Context) error {
			_, err := a.Destinations.Update(ctx, "d", &host.DestinationPatch{})
			return err
		},
		"destinations.Delete": func(ctx context.Context) error { return a.Destinations.Delete(ctx, "d") },
		"destinations.Test":   func(ctx context.Context) error { _, err := a.Destinations.Test(ctx, "d"); return err },
		"alerts.Redeliver":    func(ctx context.Context) error { return alerts.Redeliver(ctx, db, "a") },
		"alerts.RedeliverMatching": func(ctx context.Context) error {
			_, err := alerts.RedeliverMatching(ctx, db, host.DeliveryFilter{})
			return err
		},
		"keys.Create": func(ctx context.Context) error { _, _, err := a.Keys.Create(ctx, host.RoleAdmin, "", ""); return err },
		"keys.Delete": func(ctx context.Context) error { return a.Keys.Delete(ctx, "k") },
		"users.Create": func(ctx context.Context) error {
			_, err := a.Users.Create(ctx, "ada", host.RoleOperator, "a long enough password")
			return err
		},
		"users.List":        func(ctx context.Context) error { _, err := a.Users.List(ctx); return err },
		"users.Delete":      func(ctx context.Context) error { return a.Users.Delete(ctx, "ada") },
		"users.SetPassword": func(ctx context.Context) error { return a.Users.SetPassword(ctx, "ada", "a long enough password") },
		"orders.BulkReevaluate": func(ctx context.Context) error {
			_, err := a.Orders.BulkReevaluate(ctx, orders.Bulk{IDs: []string{"o"}, Note: "n"})
			return err
		},
		"orders.EvaluateStored": func(ctx context.Context) error { _, err := a.Orders.EvaluateStored(ctx, "o"); return err },
		"orders.FactsNow": func(ctx context.Context) error {
			_, err := a.Orders.FactsNow(ctx, &host.Record{Order: sdk.Order{ID: "o", ChannelID: "c"}})
			return err
		},
	}
	// The work of the queue, which operator keys may do: the call passes
	// the rights check (and then fails on the missing order or delivery).
	operatorWork := map[string]bool{"orders.Release": true, "orders.Cancel": true, "orders.Edit": true, "orders.Reevaluate": true,
		"orders.ReevaluateMatching": true, "catalog.SetInventory": true, "alerts.Redeliver": true, "alerts.RedeliverMatching": true,
		"orders.BulkReevaluate": true, "orders.EvaluateStored": true, "orders.FactsNow": true}
	reseller := &host.APIKey{ID: "r", Role: host.RoleReseller, ChannelID: "acme"}
	operator := &host.APIKey{ID: "op", Role: host.RoleOperator}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			if err := call(context.Background()); host.ErrorCode(err) != host.EUNAUTHORIZED {
				t.Errorf("without an actor: %v, want unauthorized", err)
			}
			if err := call(host.WithActor(context.Background(), reseller)); host.ErrorCode(err) != host.EFORBIDDEN {
				t.Errorf("as a reseller: %v, want forbidden", err)
			}
			err := call(host.WithActor(context.Background(), operator))
			if operatorWork[name] == (host.ErrorCode(err) == host.EFORBIDDEN) {
				t.Errorf("as an operator: %v (the queue's work: %v)", err, operatorWork[name])
			}
		})
	}
	if keys, _ := db.Keys(context.Background()); len(keys) != 0 {
		t.Errorf("refused calls created keys: %v", keys)
	}
	if list, _ := db.Users(context.Background()); len(list) != 0 {
		t.Errorf("refused calls created users: %v", list)
	}
	if chans, _ := db.Channels(context.Background()); len(chans) != 0 {
		t.Errorf("refused calls created channels: %v", chans)
	}
}

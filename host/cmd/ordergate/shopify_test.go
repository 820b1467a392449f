package main_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/plugins/shopify/shopifytest"
)

// TestShopifyTutorialOrder runs the real Shopify connector under the real
// host against a fake Shopify: order #1203 (V789 x 5) is imported, held
// and tagged "Review Needed"; the access token never shows.
func TestShopifyTutorialOrder(t *testing.T) {
	shop := shopifytest.New(t)
	shop.AddOrders(1203, 1, time.Now().Add(-time.Hour))
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--plugins", pluginDir)

	created := decode(t, mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{
		"id": "shopify", "name": "Valve Supply", "kind": "b2c", "connector": "shopify", "poll_interval": "1m",
		"config": map[string]any{"shop": "valve-supply.myshopify.com", "access_token": shopifytest.Token, "endpoint": shop.Endpoint()},
	}, 201))
	if cfg := created["config"].(map[string]any); cfg["access_token"] != "(secret)" {
		t.Errorf("the token is shown: %v", cfg)
	}
	test := decode(t, mustDo(t, h, "POST", "/api/v1/channels/shopify/test", h.AdminKey, nil, 200))
	if test["ok"] != true || !strings.Contains(fmt.Sprint(test["detail"]), "Valve Supply Co") {
		t.Errorf("connection test = %v", test)
	}

	var got map[string]any
	e2e.Eventually(t, 30*time.Second, func() error {
		orders := channelOrders(t, h, "shopify")
		if len(orders) != 1 {
			return fmt.Errorf("%d orders imported", len(orders))
		}
		got = orders[0]
		return nil
	})
	if got["number"] != "#1203" || got["status"] != "on_hold" || !slices.Contains(strs(got["tags"]), "Review Needed") {
		t.Errorf("imported: number %v status %v tags %v", got["number"], got["status"], got["tags"])
	}
	line := got["line_items"].([]any)[0].(map[string]any)
	if line["sku"] != "V789" || line["quantity"] != 5.0 {
		t.Errorf("line = %v", line)
	}

	// A wrong token is reported as such.
	mustDo(t, h, "PATCH", "/api/v1/channels/shopify", h.AdminKey, map[string]any{
		"config": map[string]any{"shop": "valve-supply.myshopify.com", "access_token": "shpat_wrong", "endpoint": shop.Endpoint()},
	}, 200)
	test = decode(t, mustDo(t, h, "POST", "/api/v1/channels/shopify/test", h.AdminKey, nil, 200))
	if test["ok"] != false || test["kind"] != "unauthenticated" {
		t.Errorf("test with a wrong token = %v", test)
	}
	for _, secret := range []string{shopifytest.Token, "shpat_wrong"} {
		if strings.Contains(h.Logs(), secret) {
			t.Errorf("the log contains the token %s", secret)
		}
	}
}

// TestShopifyChangesAfterImport: an order canceled in the shop after its
// import is canceled in ordergate by channel:shopify; one edited in the
// shop is recorded as channel_updated and re-evaluated.
func TestShopifyChangesAfterImport(t *testing.T) {
	shop := shopifytest.New(t)
	placed := time.Now().Add(-time.Hour)
	shop.AddOrders(1203, 2, placed)
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--plugins", pluginDir)
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{
		"id": "shopify", "kind": "b2c", "connector": "shopify", "poll_interval": "24h",
		"config": map[string]any{"shop": "valve-supply.myshopify.com", "access_token": shopifytest.Token, "endpoint": shop.Endpoint()},
	}, 201)
	byNumber := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, o := range channelOrders(t, h, "shopify") {
			out[o["number"].(string)] = o
		}
		return out
	}
	e2e.Eventually(t, 30*time.Second, func() error {
		if n := len(byNumber()); n != 2 {
			return fmt.Errorf("%d orders imported, want 2", n)
		}
		return nil
	})
	waitIdle(t, h, "shopify")

	shop.Cancel(1203, time.Now(), "CUSTOMER")
	shop.Edit(1204, time.Now(), func(o map[string]any) { o["note"] = "Ring twice" })
	mustDo(t, h, "POST", "/api/v1/channels/shopify/import", h.AdminKey, nil, 202)
	e2e.Eventually(t, 30*time.Second, func() error {
		got := byNumber()
		canceled, edited := got["#1203"], got["#1204"]
		if canceled["status"] != "canceled" {
			return fmt.Errorf("#1203 is %v, want canceled", canceled["status"])
		}
		if c, _ := canceled["cancellation"].(map[string]any); c["by"] != "channel:shopify" || c["message"] != "canceled in the channel: customer" {
			return fmt.Errorf("#1203 cancellation = %v", canceled["cancellation"])
		}
		if edited["note"] != "Ring twice" {
			return fmt.Errorf("#1204 note = %v", edited["note"])
		}
		full := decode(t, mustDo(t, h, "GET", "/api/v1/orders/"+edited["id"].(string), h.AdminKey, nil, 200))
		var types []string
		for _, e := range full["events"].([]any) {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		if !slices.Contains(types, "channel_updated") || types[len(types)-1] != "reevaluated" {
			return fmt.Errorf("#1204 timeline = %v", types)
		}
		return nil
	})
	var updated float64
	for _, r := range runsOf(t, h, "shopify") {
		updated += r["updated"].(float64)
	}
	if updated != 2 {
		t.Errorf("the runs count %v orders updated, want 2", updated)
	}
}

// waitIdle waits until the channel has no import running.
func waitIdle(t *testing.T, h *e2e.Host, channel string) {
	t.Helper()
	e2e.Eventually(t, 30*time.Second, func() error {
		ch := decode(t, mustDo(t, h, "GET", "/api/v1/channels/"+channel, h.AdminKey, nil, 200))
		if imp, _ := ch["imports"].(map[string]any); imp != nil && imp["running"] != nil {
			return fmt.Errorf("channel %s is importing", channel)
		}
		return nil
	})
}

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

package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestAlertDestinations(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	created := h.expect(h.do("POST", "/api/v1/alert-destinations", h.admin, map[string]any{
		"name": "sales", "kind": "webhook", "url": "https://hooks.example.com/sales", "secret": "whsec_123",
	}), http.StatusCreated)
	if strings.Contains(string(created.body), "whsec_123") {
		t.Fatalf("the secret came back: %s", created.body)
	}
	for _, path := range []string{"/api/v1/alert-destinations", "/api/v1/alert-destinations/sales"} {
		if r := h.expect(h.do("GET", path, h.admin, nil), http.StatusOK); strings.Contains(string(r.body), "whsec_123") {
			t.Errorf("%s shows the secret: %s", path, r.body)
		}
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x", "kind": "webhook", "url": "https://h.example.com", "events": []string{"order.*"}, "secret": "whsec_short"}, "secret"},
		{map[string]any{"name": "x", "kind": "webhook", "url": "https://h.example.com", "events": []string{"order.lost"}}, "events[0]"},
		{map[string]any{"name": "x", "kind": "pigeon"}, "kind"},
		{map[string]any{"name": "x", "kind": "slack", "url": "ftp://h"}, "url"},
		{map[string]any{"name": "Bad Name", "kind": "log"}, "name"},
	} {
		p := h.expect(h.do("POST", "/api/v1/alert-destinations", h.admin, tc.body), http.StatusUnprocessableEntity).json(t)
		if f := p["errors"].([]any)[0].(map[string]any)["field"]; f != tc.field {
			t.Errorf("%v: problem names %v, want %s", tc.body, f, tc.field)
		}
	}
	h.expect(h.do("POST", "/api/v1/alert-destinations", h.admin, map[string]any{"name": "sales", "kind": "log"}), http.StatusConflict)
	h.expect(h.do("GET", "/api/v1/alerts?status=lost", h.admin, nil), http.StatusUnprocessableEntity)
	h.expect(h.do("DELETE", "/api/v1/alert-destinations/sales", h.admin, nil), http.StatusNoContent)
}

package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentPatchesLoseNoUpdate: PATCHes of different fields of one
// resource sent at the same moment all take effect, for every patchable
// resource. Each round sets every field to a new value at once, then
// reads the resource back: a read-modify-write outside one transaction
// would let one patch write back the other's field as it was before.
func TestConcurrentPatchesLoseNoUpdate(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("acme", "b2b")
	h.createChannel("globex", "b2b")
	h.expect(h.do("POST", "/api/v1/sources", h.admin, map[string]any{"id": "austin", "name": "Austin"}), http.StatusCreated)
	h.expect(h.do("POST", "/api/v1/sources", h.admin, map[string]any{"id": "dallas", "name": "Dallas"}), http.StatusCreated)
	h.expect(h.do("POST", "/api/v1/routing-groups", h.admin, map[string]any{"id": "main", "name": "Main", "sources": []any{map[string]any{"source_id": "austin"}}}), http.StatusCreated)
	h.expect(h.do("POST", "/api/v1/alert-destinations", h.admin, map[string]any{"name": "sales", "kind": "slack", "url": "https://hooks.example.com/0"}), http.StatusCreated)

	type field struct {
		patch func(round int) map[string]any
		// stored returns the field's value in the resource read back, and
		// want the value round set.
		stored func(got map[string]any) any
		want   func(round int) any
	}
	for _, tc := range []struct {
		name, path string
		fields     []field
	}{
		{"channel", "/api/v1/channels/acme", []field{
			{func(r int) map[string]any { return map[string]any{"name": fmt.Sprint("Acme ", r)} },
				func(g map[string]any) any { return g["name"] }, func(r int) any { return fmt.Sprint("Acme ", r) }},
			{func(r int) map[string]any { return map[string]any{"poll_interval": fmt.Sprint(r+1, "m")} },
				func(g map[string]any) any { return g["poll_interval"] }, func(r int) any { return fmt.Sprint(r+1, "m") }},
		}},
		{"source", "/api/v1/sources/austin", []field{
			{func(r int) map[string]any { return map[string]any{"name": fmt.Sprint("Austin ", r)} },
				func(g map[string]any) any { return g["name"] }, func(r int) any { return fmt.Sprint("Austin ", r) }},
			{func(r int) map[string]any { return map[string]any{"enabled": r%2 == 0} },
				func(g map[string]any) any { return g["enabled"] }, func(r int) any { return r%2 == 0 }},
		}},
		{"routing group", "/api/v1/routing-groups/main", []field{
			{func(r int) map[string]any { return map[string]any{"name": fmt.Sprint("Main ", r)} },
				func(g map[string]any) any { return g["name"] }, func(r int) any { return fmt.Sprint("Main ", r) }},
			{func(r int) map[string]any {
				return map[string]any{"channels": []any{[]string{"acme", "globex"}[r%2]}}
			}, func(g map[string]any) any { return fmt.Sprint(g["channels"]) }, func(r int) any { return fmt.Sprint([]any{[]string{"acme", "globex"}[r%2]}) }},
			{func(r int) map[string]any {
				return map[string]any{"sources": []any{map[string]any{"source_id": []string{"austin", "dallas"}[r%2]}}}
			}, func(g map[string]any) any { return g["sources"].([]any)[0].(map[string]any)["source_id"] }, func(r int) any { return []string{"austin", "dallas"}[r%2] }},
		}},
		{"destination", "/api/v1/alert-destinations/sales", []field{
			{func(r int) map[string]any { return map[string]any{"url": fmt.Sprint("https://hooks.example.com/", r)} },
				func(g map[string]any) any { return g["url"] }, func(r int) any { return fmt.Sprint("https://hooks.example.com/", r) }},
			{func(r int) map[string]any { return map[string]any{"max_concurrency": r%8 + 1} },
				func(g map[string]any) any { return g["max_concurrency"] }, func(r int) any { return float64(r%8 + 1) }},
			{func(r int) map[string]any { return map[string]any{"rate_per_second": r%9 + 1} },
				func(g map[string]any) any { return g["rate_per_second"] }, func(r int) any { return float64(r%9 + 1) }},
		}},
		{"settings", "/api/v1/settings", []field{
			{func(r int) map[string]any {
				return map[string]any{"duplicate_protection": map[string]any{"window": fmt.Sprint(r+1, "h")}}
			}, func(g map[string]any) any { return g["duplicate_protection"].(map[string]any)["window"] }, func(r int) any { return fmt.Sprint(r+1, "h") }},
			{func(r int) map[string]any { return map[string]any{"reevaluate_on_inventory_change": r%2 == 0} },
				func(g map[string]any) any { return g["reevaluate_on_inventory_change"] }, func(r int) any { return r%2 == 0 }},
			{func(r int) map[string]any {
				return map[string]any{"ops_alerts": map[string]any{"channel_failures": r + 1}}
			},
				func(g map[string]any) any { return g["ops_alerts"].(map[string]any)["channel_failures"] }, func(r int) any { return float64(r + 1) }},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for round := range 30 {
				var start, done sync.WaitGroup
				start.Add(1)
				for _, f := range tc.fields {
					done.Go(func() {
						start.Wait()
						h.expect(h.do("PATCH", tc.path, h.admin, f.patch(round)), http.StatusOK)
					})
				}
				start.Done()
				done.Wait()
				got := h.expect(h.do("GET", tc.path, h.admin, nil), http.StatusOK).json(t)
				for i, f := range tc.fields {
					if have, want := f.stored(got), f.want(round); fmt.Sprint(have) != fmt.Sprint(want) {
						t.Fatalf("round %d: field %d is %v, want %v: a concurrent patch lost this update", round, i, have, want)
					}
				}
			}
		})
	}
}

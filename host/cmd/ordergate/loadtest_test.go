package main_test

import (
	"strings"
	"testing"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestLoadtestShowsFirstRefusal runs loadtest against a real host with a
// wrong key and with a channel that does not exist, one order a request
// and in batches: no order is accepted, so it exits 1 and shows the status
// and problem document of the host's first refusal.
func TestLoadtestShowsFirstRefusal(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies)
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "acme", "kind": "b2b"}, 201)
	for _, tc := range []struct {
		name string
		args []string
		want []string // in stderr, in this order
	}{
		{"wrong key", []string{"--key", "ogk_wrong", "--channel", "acme"},
			[]string{"The first refusal:\n401 Unauthorized\n", `"type":"urn:ordergate:problem:unauthorized"`, `"instance":"/api/v1/orders"`}},
		{"wrong channel", []string{"--key", h.AdminKey, "--channel", "nope"},
			[]string{"The first refusal:\n422 Unprocessable Entity\n", `"detail":"no such channel"`, `channel \"nope\" does not exist`}},
		{"wrong channel in batches", []string{"--key", h.AdminKey, "--channel", "nope", "--batch", "5"},
			[]string{"The first refusal:\n200 OK, but the batch rejected an order\n", `"detail":"no such channel"`, `"field":"orders[0].channel_id"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"loadtest", "--url", h.URL, "--duration", "300ms", "--concurrency", "1"}, tc.args...)
			code, stdout, stderr := runCLI(t, t.TempDir(), args...)
			if code != 1 || !strings.Contains(stdout, "0 orders/s accepted") {
				t.Fatalf("exit %d, want 1 with 0 orders/s accepted\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			rest := stderr
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q (after what came before):\n%s", w, stderr)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

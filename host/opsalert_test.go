package host_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// TestOpsAlertKinds: each kind names its rule, says what happened in its
// message, and is raised once per occurrence (the same key, the same
// delivery id; another occurrence, another id).
func TestOpsAlertKinds(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		alert, again, other host.OpsAlert
		rule, severity      string
		says                []string
	}{
		{host.ChannelFailing{ChannelID: "shop", RunID: "r1", Failures: 3, LastStatus: "partial", LastError: "1 file rejected"},
			host.ChannelFailing{ChannelID: "shop", RunID: "r1", Failures: 3, LastStatus: "partial", LastError: "1 file rejected"},
			host.ChannelFailing{ChannelID: "shop", RunID: "r7", Failures: 3}, host.OpsChannelFailing, "critical", []string{"shop", "3 imports in a row", "partial", "1 file rejected"}},
		{host.ChannelSilent{ChannelID: "shop", LastSuccess: at, Window: 24 * time.Hour}, host.ChannelSilent{ChannelID: "shop", LastSuccess: at, Window: 24 * time.Hour},
			host.ChannelSilent{ChannelID: "shop", LastSuccess: at.Add(time.Hour)}, host.OpsChannelSilent, "warning", []string{"shop", "2026-12-01T09:00:00Z", "24h0m0s"}},
		{host.PolicyReloadRefused{Serving: "abc", Error: "test failed"}, host.PolicyReloadRefused{Serving: "abc", Error: "test failed"},
			host.PolicyReloadRefused{Serving: "abc", Error: "compile error"}, host.OpsPolicyReloadRefused, "critical", []string{"abc keeps serving", "test failed"}},
		{host.AlertDeadLettered{DeliveryID: "alrt_1", Destination: "sales", OrderNumber: "#1203", Attempts: 20, Error: "503", QueuedAt: at},
			host.AlertDeadLettered{DeliveryID: "alrt_1", Destination: "sales", OrderNumber: "#1203", Attempts: 20, Error: "503", QueuedAt: at},
			host.AlertDeadLettered{DeliveryID: "alrt_1", Attempts: 20, QueuedAt: at.Add(time.Hour)}, host.OpsAlertDeadLettered, "critical", []string{"alrt_1", "sales", "#1203", "20 attempts", "/api/v1/alerts/alrt_1/redeliver"}},
		{host.RevisionsDiffer{Hosts: map[string]string{"host_a": "r1", "host_b": "r2", "host_c": "r1"}, Since: time.Minute},
			host.RevisionsDiffer{Hosts: map[string]string{"host_d": "r2", "host_e": "r1"}, Since: 2 * time.Minute},
			host.RevisionsDiffer{Hosts: map[string]string{"host_a": "r1", "host_b": "r3"}}, host.OpsRevisionsDiffer, "critical", []string{"2 different policy revisions", "host_a serves r1", "host_b serves r2", "1m0s"}},
		{sla("o1", at, 6*time.Hour), sla("o1", at, 7*time.Hour), sla("o1", at.Add(time.Minute), 6*time.Hour),
			host.OpsHoldSLAExceeded, "warning", []string{"#o1", "custom_rule", "hold_large_quantity", "6h0m0s", "SLA of 4h", "/api/v1/orders/o1"}},
		{host.HoldSLADigest{Breaches: []host.HoldSLAExceeded{sla("o1", at, 6*time.Hour), sla("o2", at.Add(-time.Hour), 7*time.Hour)}},
			host.HoldSLADigest{Breaches: []host.HoldSLAExceeded{sla("o2", at.Add(-time.Hour), 8*time.Hour), sla("o1", at, 7*time.Hour)}},
			host.HoldSLADigest{Breaches: []host.HoldSLAExceeded{sla("o1", at, 6*time.Hour)}},
			host.OpsHoldSLADigest, "warning", []string{"2 held orders", "custom_rule 2", "the oldest is #o2", "7h0m0s"}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			d := host.OpsDelivery("ops", tc.alert, at)
			if d.Alert.Rule != tc.rule || d.Alert.Severity != tc.severity || d.Alert.Package != "host" || d.Alert.To != "ops" || d.OrderID != "" {
				t.Errorf("delivery alert = %+v", d.Alert)
			}
			for _, s := range tc.says {
				if !strings.Contains(d.Alert.Message, s) {
					t.Errorf("message %q does not say %q", d.Alert.Message, s)
				}
			}
			if again := host.OpsDelivery("ops", tc.again, at.Add(time.Minute)); again.ID != d.ID {
				t.Errorf("the same occurrence has another id: %s, %s", again.ID, d.ID)
			}
			if other := host.OpsDelivery("ops", tc.other, at); other.ID == d.ID {
				t.Error("another occurrence has the same id")
			}
		})
	}
}

// sla is the SLA breach of order id's hold placed at heldAt, age old.
func sla(id string, heldAt time.Time, age time.Duration) host.HoldSLAExceeded {
	return host.HoldSLAExceeded{OrderID: id, Number: "#" + id, ChannelID: "shop", HeldAt: heldAt, Age: age, MaxAge: 4 * time.Hour,
		Hold: sdk.Hold{Reason: sdk.HoldCustomRule, Rule: "hold_large_quantity", Message: "line V789 has quantity 5"}}
}

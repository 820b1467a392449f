package host_test

import (
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

func TestChannelPublicHidesSecrets(t *testing.T) {
	ch := &host.Channel{ID: "shop", Config: sdk.Config{"token": "shpat_123", "shop": "x.myshopify.com"}, SecretFields: []string{"token", "absent"}}
	pub := ch.Public()
	if pub.Config["token"] != sdk.RedactedValue || pub.Config["shop"] != "x.myshopify.com" {
		t.Errorf("public config = %v", pub.Config)
	}
	if _, ok := pub.Config["absent"]; ok {
		t.Error("a secret that was not set appears")
	}
	if ch.Config["token"] != "shpat_123" {
		t.Error("Public changed the channel")
	}
}

func TestChannelInterval(t *testing.T) {
	for in, want := range map[string]time.Duration{"": host.DefaultPollInterval, "30s": 30 * time.Second, "nonsense": host.DefaultPollInterval, "-1m": host.DefaultPollInterval} {
		if got := (&host.Channel{PollInterval: in}).Interval(); got != want {
			t.Errorf("Interval(%q) = %v, want %v", in, got, want)
		}
	}
}

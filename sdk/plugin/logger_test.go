package plugin

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/sdk"
)

// The connector's logger and any hclog.Logger are an sdk.Log, so a test
// can hand WithLogger an hclog logger as it did when sdk.Logger returned
// one.
var _ sdk.Log = preciseLogger{}
var _ sdk.Log = hclog.Logger(nil)

// TestLoggedIntegersArriveExact: a connector's log line, decoded as
// go-plugin decodes it on the host's side (JSON into float64s), keeps an
// order id over 2^53 exact; small integers stay numbers.
func TestLoggedIntegersArriveExact(t *testing.T) {
	var buf bytes.Buffer
	log := newPluginLogger("connector.test", &buf).Named("import").With("shop_id", int64(9007199254740993))
	log.Info("order sent", "order_id", uint64(5531203000000000123), "count", 5, "page", int64(2))
	var entry map[string]any
	if err := json.Unmarshal(buf.Bytes(), &entry); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	for key, want := range map[string]any{"order_id": "5531203000000000123", "shop_id": "9007199254740993", "count": 5.0, "page": 2.0} {
		if entry[key] != want {
			t.Errorf("%s arrives as %v (%T), want %v", key, entry[key], entry[key], want)
		}
	}
}

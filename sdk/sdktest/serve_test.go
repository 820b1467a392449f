package sdktest

import (
	"context"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/sdk"
)

type described struct{ desc sdk.Description }

func (d described) Describe() sdk.Description                                    { return d.desc }
func (described) TestConnection(context.Context, sdk.Config) (string, error)     { return "", nil }
func (described) GetOrders(context.Context, sdk.Config, string, sdk.Pages) error { return nil }

// TestServeChecksTheDescription: Serve refuses a description plugin.Serve
// would refuse, such as a duration default that is not a string.
func TestServeChecksTheDescription(t *testing.T) {
	good := sdk.Description{Name: "acme", Version: "1.0.0", Capabilities: []string{sdk.CapabilityGetOrders},
		Config: []sdk.ConfigField{{Name: "interval", Type: sdk.FieldDuration, Default: "30s", Description: "how often"}}}
	if err := checkDescription(described{good}); err != nil {
		t.Fatalf("a valid description: %v", err)
	}
	bad := good
	bad.Config = []sdk.ConfigField{{Name: "interval", Type: sdk.FieldDuration, Default: 30, Description: "how often"}}
	if err := checkDescription(described{bad}); err == nil || !strings.Contains(err.Error(), "config[0].default") {
		t.Errorf("a duration default of 30 (not \"30s\"): %v, want it refused naming the field", err)
	}
}

package bolt_test

import (
	"testing"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/storetest"
)

// TestContract runs the store contract suite on bbolt.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) host.Store { return e2e.OpenStore(t) })
}

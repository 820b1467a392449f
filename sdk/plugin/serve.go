package plugin

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/ordergate/ordergate/sdk"
)

// Serve runs the connector as a plugin of the host. It is the whole of a
// connector's main:
//
//	func main() { plugin.Serve(myconnector.New()) }
//
// Logs written through sdk.Logger(ctx) reach the host's log under the
// connector's name. The connector exits when its host is gone.
func Serve(c sdk.Connector) {
	desc := c.Describe()
	if err := desc.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "connector description is not valid: %v\n", err)
		os.Exit(1)
	}
	go exitWithParent(os.Getppid(), time.Second)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(c),
		GRPCServer:       newGRPCServer,
		Logger:           newPluginLogger("connector."+desc.Name, os.Stderr),
	})
}

// exitWithParent ends the process when its parent (the host) is gone,
// even if the host was killed and could not stop it.
func exitWithParent(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}

// newPluginLogger logs JSON to stderr, which go-plugin reads and writes to
// the host's log under the connector's name; integers too large for a
// float64 are logged as strings (see preciseLogger).
func newPluginLogger(name string, w io.Writer) hclog.Logger {
	return precise(hclog.New(&hclog.LoggerOptions{Name: name, Output: w, JSONFormat: true, Level: hclog.Trace}))
}

package plugin

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/ordergate/ordergate/sdk"
	connectorv1 "github.com/ordergate/ordergate/sdk/internal/proto/connector/v1"
)

// Handshake is the go-plugin handshake between the host and a connector:
// a connector run by hand (not by the host) says so and exits, unless it
// is asked for debug mode (see Serve).
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ORDERGATE_CONNECTOR_PLUGIN",
	MagicCookieValue: "7c1f3a52e4b94e0d8f6a2d9b0c5e1f47",
}

// ProtocolVersion is the newest connector protocol this SDK speaks. The
// host and a connector agree on the newest version both know, through
// go-plugin's versioned plugin sets, so a host keeps serving connectors
// built against an older SDK.
const ProtocolVersion = 1

// PluginName is the name of the connector in go-plugin's plugin set.
const PluginName = "connector"

// MaxMessageSize bounds one gRPC message each way: a page of orders may be
// large, and gRPC's 4 MiB default would break the stream.
const MaxMessageSize = 64 << 20

// PluginSets returns the plugin sets by protocol version. The host calls it
// with a nil impl; Serve with the connector.
func PluginSets(impl sdk.Connector) map[int]goplugin.PluginSet {
	return pluginSets(impl, nil)
}

// pluginSets is PluginSets with the logger of the connector's calls (nil:
// JSON lines on stderr, for the host to read).
func pluginSets(impl sdk.Connector, log hclog.Logger) map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		1: {PluginName: &GRPCPlugin{Impl: impl, log: log}},
	}
}

// GRPCPlugin is the go-plugin plugin of the connector protocol: the server
// side serves Impl, the client side returns a *Client.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl sdk.Connector
	// log is the logger of the connector's calls; nil logs JSON to stderr,
	// which go-plugin copies into the host's log.
	log hclog.Logger
}

// GRPCServer implements go-plugin's GRPCPlugin.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	desc := p.Impl.Describe()
	log := p.log
	if log == nil {
		log = newPluginLogger("connector."+desc.Name, os.Stderr)
	}
	connectorv1.RegisterConnectorServiceServer(s, &server{impl: p.Impl, desc: desc, log: log})
	return nil
}

// GRPCClient implements go-plugin's GRPCPlugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &Client{rpc: connectorv1.NewConnectorServiceClient(conn)}, nil
}

// GRPCServerOptions are the options of a connector's gRPC server.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize)}
}

// GRPCDialOptions are the options of the host's connection to a connector.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize))}
}

// newGRPCServer is the connector's gRPC server, for go-plugin's ServeConfig.
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, GRPCServerOptions()...)...)
}

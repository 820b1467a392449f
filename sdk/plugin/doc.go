// Package plugin runs a connector as a plugin of the ordergate host, and
// is the host's side of the connector protocol: hashicorp/go-plugin's
// handshake and versioned plugin sets, and gRPC (protocol v1, whose
// generated code is internal to the sdk). A connector's main is one call:
//
//	package main
//
//	import "github.com/ordergate/ordergate/sdk/plugin"
//
//	func main() { plugin.Serve(acme.New()) }
//
// Everything else a connector needs (the order model, Connector, errors,
// the logger) is in the sdk package, which needs the standard library
// only; the host's Client and the gRPC status mapping of sdk.Error kinds
// are here.
//
// # Debug mode
//
// A connector run by hand with -debug serves standalone and prints the
// ORDERGATE_REATTACH_CONNECTORS line that makes a host attach to it
// instead of starting its binary, so a vendor can run it under a debugger
// (see ServeDebug for Delve):
//
//	$ ./ordergate-connector-acme -debug
//	Connector acme is serving in debug mode (pid 4242). Start the host with:
//
//		ORDERGATE_REATTACH_CONNECTORS='{"acme":{"Protocol":"grpc","ProtocolVersion":1,"Pid":4242,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin1234"}}}'
//
//	$ ORDERGATE_REATTACH_CONNECTORS='{"acme":...}' ordergate serve
package plugin

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
package plugin

// Package sdk is the public contract between ordergate and the people who
// extend it: the canonical order model that connectors produce, that
// resellers post and that Rego rule authors read as input.order, and what
// a connector implements (Connector, its Description and configuration,
// its errors and its logger).
//
// The package needs the standard library only, so the host's domain and
// a connector's own logic carry no transport. Running a connector as the
// host's plugin (go-plugin and gRPC) is the sdk/plugin package, whose
// Serve is a connector's whole main; sdk/sdktest is the conformance kit.
//
// The JSON names of every type here are stable: rule authors write policies
// against them, so renaming a field is a breaking change.
package sdk

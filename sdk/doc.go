// Package sdk is the public contract between ordergate and the people who
// extend it: the canonical order model that connectors produce, that
// resellers post and that Rego rule authors read as input.order.
//
// The JSON names of every type here are stable: rule authors write policies
// against them, so renaming a field is a breaking change.
package sdk

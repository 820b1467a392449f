package sdk

import (
	"context"
	"errors"
	"fmt"
)

// Connector is what a connector vendor implements: a sales channel's
// "Get Orders" operation. The host runs the connector as its own process
// (its main is sdk/plugin's Serve) and calls it over gRPC; the sdk/sdktest
// package checks a Connector against the protocol's rules from `go test`.
type Connector interface {
	// Describe names the connector and its configuration fields. The host
	// validates a channel's configuration against the fields before any
	// other call, so the methods below get a Config of the declared types
	// with every required field present.
	Describe() Description
	// TestConnection checks cfg against the channel cheaply and returns
	// what it reached (e.g. the shop's name), or an *Error a person can act
	// on.
	TestConnection(ctx context.Context, cfg Config) (string, error)
	// GetOrders sends the orders after cursor ("" for the first import)
	// to pages, a page at a time, each with the cursor that resumes after
	// it. A cursor is opaque to the host; it must never skip an order the
	// connector has not sent. GetOrders returns when there is nothing
	// more, or with ctx's error when the host cancels.
	GetOrders(ctx context.Context, cfg Config, cursor string, pages Pages) error
}

// Pages receives the pages of a GetOrders call.
type Pages interface {
	// Send delivers orders and the cursor after them, with problems that
	// cost no order of the page (e.g. a malformed file set aside). It
	// returns an error when the host is gone or has canceled.
	Send(orders []Order, cursor string, problems ...Problem) error
}

// Page is one page of a GetOrders stream as the host receives it.
type Page struct {
	Orders []Order
	// Cursor resumes after this page.
	Cursor string
	// Problems the connector reported, and orders whose JSON could not be
	// read (the connector's fault; they are not in Orders).
	Problems []Problem
}

// Problem is something a connector met and dealt with, shown on the
// channel's import run. A problem is input the connector set aside (a
// malformed file, an order it could not map): the host counts the import
// as partial, and a run of such imports as failing. A Notice is a problem
// that rejected nothing (the connector shrank a page the channel found too
// costly, say); the run shows it and stays a success.
type Problem struct {
	Source  string `json:"source"`
	Message string `json:"message"`
	Notice  bool   `json:"notice,omitempty"`
}

// Description names a connector and the configuration it takes.
type Description struct {
	// Name is the connector's name: its binary is
	// ordergate-connector-<name>. Lower-case letters, digits and '-'.
	Name string
	// Version is the connector's version, e.g. "1.2.0".
	Version      string
	Description  string
	Capabilities []string
	Config       []ConfigField
}

// CapabilityGetOrders is the capability of importing orders.
const CapabilityGetOrders = "get_orders"

// FieldType is the type of a configuration value.
type FieldType string

// Configuration value types.
const (
	FieldString    FieldType = "string"
	FieldInteger   FieldType = "integer"
	FieldBoolean   FieldType = "boolean"
	FieldDuration  FieldType = "duration"   // a Go duration string, "5m"
	FieldStringMap FieldType = "string_map" // an object of string values
)

// ConfigField describes one configuration field of a connector.
type ConfigField struct {
	Name     string    `json:"name"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required,omitempty"`
	// Secret fields (tokens, passwords) are never returned by the host's
	// API nor written to its logs.
	Secret      bool   `json:"secret,omitempty"`
	Description string `json:"description,omitempty"`
	// Default is used when the field is absent.
	Default any `json:"default,omitempty"`
}

// ErrorKind classifies a connector error so the host can say what to do.
type ErrorKind string

// Error kinds.
const (
	// ErrInvalidConfig: the configuration is wrong; Fields names where.
	ErrInvalidConfig ErrorKind = "invalid_config"
	// ErrUnauthenticated: the credentials are wrong or expired.
	ErrUnauthenticated ErrorKind = "unauthenticated"
	// ErrPermissionDenied: the credentials lack a permission (a scope).
	ErrPermissionDenied ErrorKind = "permission_denied"
	// ErrNotFound: the shop, account or folder does not exist.
	ErrNotFound ErrorKind = "not_found"
	// ErrUnavailable: the channel cannot be reached now; try later.
	ErrUnavailable ErrorKind = "unavailable"
	// ErrInternal: anything else.
	ErrInternal ErrorKind = "internal"
)

// Error is a connector error with a kind and a message a person can act
// on, e.g. "the access token was rejected; create a new one in the shop's
// admin under Apps > Develop apps".
type Error struct {
	Kind    ErrorKind
	Message string
	// Fields are the configuration fields at fault (ErrInvalidConfig).
	Fields []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s", e.Message, ValidationError(e.Fields).Error())
	}
	return e.Message
}

// Errorf returns an *Error of the kind with a formatted message.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err if it is (or wraps) an *Error, and
// ErrInternal otherwise.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ErrInternal
}

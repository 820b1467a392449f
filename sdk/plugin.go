package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	connectorv1 "github.com/ordergate/ordergate/sdk/proto/connector/v1"
)

// Handshake is the go-plugin handshake between the host and a connector:
// a connector run by hand (not by the host) says so and exits.
var Handshake = plugin.HandshakeConfig{
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
func PluginSets(impl Connector) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginName: &GRPCPlugin{Impl: impl}},
	}
}

// GRPCPlugin is the go-plugin plugin of the connector protocol: the server
// side serves Impl, the client side returns a *Client.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Connector
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	desc := p.Impl.Describe()
	connectorv1.RegisterConnectorServiceServer(s, &server{impl: p.Impl, desc: desc, log: newPluginLogger("connector."+desc.Name, os.Stderr)})
	return nil
}

// GRPCClient implements plugin.GRPCPlugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
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

// Serve runs the connector as a plugin of the host. It is the whole of a
// connector's main:
//
//	func main() { sdk.Serve(myconnector.New()) }
//
// Logs written through Logger(ctx) reach the host's log under the
// connector's name. The connector exits when its host is gone.
func Serve(c Connector) {
	desc := c.Describe()
	if err := desc.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "connector description is not valid: %v\n", err)
		os.Exit(1)
	}
	go exitWithParent(os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(c),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, GRPCServerOptions()...)...)
		},
		Logger: newPluginLogger("connector."+desc.Name, os.Stderr),
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

type loggerKey struct{}

// Logger returns the logger of a connector call: what it logs reaches the
// host's log. Never log secrets.
func Logger(ctx context.Context) hclog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(hclog.Logger); ok {
		return l
	}
	return hclog.NewNullLogger()
}

// WithLogger returns ctx carrying l for Logger.
func WithLogger(ctx context.Context, l hclog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// server serves a Connector over gRPC.
type server struct {
	connectorv1.UnimplementedConnectorServiceServer
	impl Connector
	desc Description
	log  hclog.Logger
}

func (s *server) Describe(context.Context, *connectorv1.DescribeRequest) (*connectorv1.DescribeResponse, error) {
	return describeToProto(&s.desc)
}

// config decodes and checks a request's configuration.
func (s *server) config(data []byte) (Config, error) {
	var cfg Config
	if len(data) > 0 {
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, &Error{Kind: ErrInvalidConfig, Message: "the configuration is not a JSON object", Fields: []FieldError{{Field: "$", Detail: err.Error()}}}
		}
	}
	return s.desc.Check(cfg)
}

func (s *server) TestConnection(ctx context.Context, req *connectorv1.TestConnectionRequest) (*connectorv1.TestConnectionResponse, error) {
	cfg, err := s.config(req.GetConfigJson())
	if err != nil {
		return nil, toStatus(err)
	}
	detail, err := s.impl.TestConnection(WithLogger(ctx, s.log), cfg)
	if err != nil {
		return nil, toStatus(err)
	}
	return &connectorv1.TestConnectionResponse{Detail: detail}, nil
}

func (s *server) GetOrders(req *connectorv1.GetOrdersRequest, stream grpc.ServerStreamingServer[connectorv1.GetOrdersResponse]) error {
	cfg, err := s.config(req.GetConfigJson())
	if err != nil {
		return toStatus(err)
	}
	ctx := WithLogger(stream.Context(), s.log)
	err = s.impl.GetOrders(ctx, cfg, req.GetCursor(), &streamPages{ctx: ctx, stream: stream})
	if err != nil {
		return toStatus(err)
	}
	return nil
}

// streamPages sends pages on a gRPC stream.
type streamPages struct {
	ctx    context.Context
	stream grpc.ServerStreamingServer[connectorv1.GetOrdersResponse]
}

func (p *streamPages) Send(orders []Order, cursor string, problems ...Problem) error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	msg := &connectorv1.GetOrdersResponse{Cursor: cursor, OrdersJson: make([][]byte, len(orders))}
	for i := range orders {
		data, err := json.Marshal(&orders[i])
		if err != nil {
			return fmt.Errorf("encoding order %q: %w", orders[i].ExternalID, err)
		}
		msg.OrdersJson[i] = data
	}
	for _, pr := range problems {
		msg.Problems = append(msg.Problems, &connectorv1.Problem{Source: pr.Source, Message: pr.Message, Notice: pr.Notice})
	}
	return p.stream.Send(msg)
}

var kindCodes = map[ErrorKind]codes.Code{
	ErrInvalidConfig:    codes.InvalidArgument,
	ErrUnauthenticated:  codes.Unauthenticated,
	ErrPermissionDenied: codes.PermissionDenied,
	ErrNotFound:         codes.NotFound,
	ErrUnavailable:      codes.Unavailable,
	ErrInternal:         codes.Internal,
}

// toStatus turns a connector error into a gRPC status.
func toStatus(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	var e *Error
	if !errors.As(err, &e) {
		return status.Error(codes.Internal, err.Error())
	}
	st := status.New(kindCodes[e.Kind], e.Message)
	if len(e.Fields) > 0 {
		detail := &connectorv1.ConfigErrors{}
		for _, f := range e.Fields {
			detail.Fields = append(detail.Fields, &connectorv1.FieldError{Field: f.Field, Detail: f.Detail})
		}
		if withDetail, derr := st.WithDetails(detail); derr == nil {
			st = withDetail
		}
	}
	return st.Err()
}

// fromStatus turns a gRPC error from a connector back into an *Error (or
// a context error).
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return &Error{Kind: ErrUnavailable, Message: err.Error()}
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", st.Message(), context.DeadlineExceeded)
	}
	e := &Error{Kind: ErrInternal, Message: st.Message()}
	for kind, code := range kindCodes {
		if code == st.Code() {
			e.Kind = kind
		}
	}
	if st.Code() == codes.Unavailable {
		e.Kind = ErrUnavailable
	}
	for _, d := range st.Details() {
		if ce, ok := d.(*connectorv1.ConfigErrors); ok {
			for _, f := range ce.GetFields() {
				e.Fields = append(e.Fields, FieldError{Field: f.GetField(), Detail: f.GetDetail()})
			}
		}
	}
	return e
}

var fieldTypes = map[FieldType]connectorv1.FieldType{
	FieldString:    connectorv1.FieldType_FIELD_TYPE_STRING,
	FieldInteger:   connectorv1.FieldType_FIELD_TYPE_INTEGER,
	FieldBoolean:   connectorv1.FieldType_FIELD_TYPE_BOOLEAN,
	FieldDuration:  connectorv1.FieldType_FIELD_TYPE_DURATION,
	FieldStringMap: connectorv1.FieldType_FIELD_TYPE_STRING_MAP,
}

func describeToProto(d *Description) (*connectorv1.DescribeResponse, error) {
	out := &connectorv1.DescribeResponse{Name: d.Name, Version: d.Version, Description: d.Description, Capabilities: d.Capabilities}
	for _, f := range d.Config {
		pf := &connectorv1.ConfigField{Name: f.Name, Type: fieldTypes[f.Type], Required: f.Required, Secret: f.Secret, Description: f.Description}
		if f.Default != nil {
			data, err := json.Marshal(f.Default)
			if err != nil {
				return nil, status.Errorf(codes.Internal, "encoding the default of %s: %v", f.Name, err)
			}
			pf.DefaultJson = string(data)
		}
		out.Config = append(out.Config, pf)
	}
	return out, nil
}

func describeFromProto(p *connectorv1.DescribeResponse) (Description, error) {
	d := Description{Name: p.GetName(), Version: p.GetVersion(), Description: p.GetDescription(), Capabilities: p.GetCapabilities()}
	for _, pf := range p.GetConfig() {
		f := ConfigField{Name: pf.GetName(), Required: pf.GetRequired(), Secret: pf.GetSecret(), Description: pf.GetDescription()}
		for t, pt := range fieldTypes {
			if pt == pf.GetType() {
				f.Type = t
			}
		}
		if pf.GetDefaultJson() != "" {
			if err := json.Unmarshal([]byte(pf.GetDefaultJson()), &f.Default); err != nil {
				return d, fmt.Errorf("the default of config field %s is not JSON: %w", f.Name, err)
			}
		}
		d.Config = append(d.Config, f)
	}
	return d, d.Validate()
}

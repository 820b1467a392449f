package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ordergate/ordergate/sdk"
	connectorv1 "github.com/ordergate/ordergate/sdk/internal/proto/connector/v1"
)

// server serves a Connector over gRPC.
type server struct {
	connectorv1.UnimplementedConnectorServiceServer
	impl sdk.Connector
	desc sdk.Description
	log  hclog.Logger
}

func (s *server) Describe(context.Context, *connectorv1.DescribeRequest) (*connectorv1.DescribeResponse, error) {
	return describeToProto(&s.desc)
}

// config decodes and checks a request's configuration.
func (s *server) config(data []byte) (sdk.Config, error) {
	var cfg sdk.Config
	if len(data) > 0 {
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, &sdk.Error{Kind: sdk.ErrInvalidConfig, Message: "the configuration is not a JSON object", Fields: []sdk.FieldError{{Field: "$", Detail: err.Error()}}}
		}
	}
	return s.desc.Check(cfg)
}

func (s *server) TestConnection(ctx context.Context, req *connectorv1.TestConnectionRequest) (*connectorv1.TestConnectionResponse, error) {
	cfg, err := s.config(req.GetConfigJson())
	if err != nil {
		return nil, toStatus(err)
	}
	detail, err := s.impl.TestConnection(sdk.WithLogger(ctx, s.log), cfg)
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
	ctx := sdk.WithLogger(stream.Context(), s.log)
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

func (p *streamPages) Send(orders []sdk.Order, cursor string, problems ...sdk.Problem) error {
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

var kindCodes = map[sdk.ErrorKind]codes.Code{
	sdk.ErrInvalidConfig:    codes.InvalidArgument,
	sdk.ErrUnauthenticated:  codes.Unauthenticated,
	sdk.ErrPermissionDenied: codes.PermissionDenied,
	sdk.ErrNotFound:         codes.NotFound,
	sdk.ErrUnavailable:      codes.Unavailable,
	sdk.ErrInternal:         codes.Internal,
}

// toStatus turns a connector error into a gRPC status.
func toStatus(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	var e *sdk.Error
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

var fieldTypes = map[sdk.FieldType]connectorv1.FieldType{
	sdk.FieldString:    connectorv1.FieldType_FIELD_TYPE_STRING,
	sdk.FieldInteger:   connectorv1.FieldType_FIELD_TYPE_INTEGER,
	sdk.FieldBoolean:   connectorv1.FieldType_FIELD_TYPE_BOOLEAN,
	sdk.FieldDuration:  connectorv1.FieldType_FIELD_TYPE_DURATION,
	sdk.FieldStringMap: connectorv1.FieldType_FIELD_TYPE_STRING_MAP,
}

func describeToProto(d *sdk.Description) (*connectorv1.DescribeResponse, error) {
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

package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ordergate/ordergate/sdk"
	connectorv1 "github.com/ordergate/ordergate/sdk/internal/proto/connector/v1"
)

// Client is the host's side of a connector: it calls a connector served
// by Serve (in another process, one attached to in debug mode, or
// in-process in sdktest). Errors are *sdk.Error values of the kinds the
// connector returned, or wrap a context error.
type Client struct {
	rpc connectorv1.ConnectorServiceClient
}

// Describe asks the connector for its description.
func (c *Client) Describe(ctx context.Context) (sdk.Description, error) {
	resp, err := c.rpc.Describe(ctx, &connectorv1.DescribeRequest{})
	if err != nil {
		return sdk.Description{}, fromStatus(err)
	}
	d, err := describeFromProto(resp)
	if err != nil {
		return d, fmt.Errorf("the connector's description is not valid: %w", err)
	}
	return d, nil
}

// TestConnection runs the connector's connection test with cfg.
func (c *Client) TestConnection(ctx context.Context, cfg sdk.Config) (string, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	resp, err := c.rpc.TestConnection(ctx, &connectorv1.TestConnectionRequest{ConfigJson: data})
	if err != nil {
		return "", fromStatus(err)
	}
	return resp.GetDetail(), nil
}

// GetOrders streams the orders after cursor and calls fn with each page,
// in order. An error from fn stops the stream and is returned.
func (c *Client) GetOrders(ctx context.Context, cfg sdk.Config, cursor string, fn func(sdk.Page) error) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.GetOrders(ctx, &connectorv1.GetOrdersRequest{ConfigJson: data, Cursor: cursor})
	if err != nil {
		return fromStatus(err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fromStatus(err)
		}
		page := sdk.Page{Cursor: msg.GetCursor(), Orders: make([]sdk.Order, 0, len(msg.GetOrdersJson()))}
		for i, raw := range msg.GetOrdersJson() {
			var o sdk.Order
			if err := json.Unmarshal(raw, &o); err != nil {
				page.Problems = append(page.Problems, sdk.Problem{Source: fmt.Sprintf("order %d of the page", i), Message: "not a canonical order: " + err.Error()})
				continue
			}
			page.Orders = append(page.Orders, o)
		}
		for _, p := range msg.GetProblems() {
			page.Problems = append(page.Problems, sdk.Problem{Source: p.GetSource(), Message: p.GetMessage(), Notice: p.GetNotice()})
		}
		if err := fn(page); err != nil {
			return err
		}
	}
}

// fromStatus turns a gRPC error from a connector back into an *sdk.Error (or
// a context error).
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return &sdk.Error{Kind: sdk.ErrUnavailable, Message: err.Error()}
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", st.Message(), context.DeadlineExceeded)
	}
	e := &sdk.Error{Kind: sdk.ErrInternal, Message: st.Message()}
	for kind, code := range kindCodes {
		if code == st.Code() {
			e.Kind = kind
		}
	}
	if st.Code() == codes.Unavailable {
		e.Kind = sdk.ErrUnavailable
	}
	for _, d := range st.Details() {
		if ce, ok := d.(*connectorv1.ConfigErrors); ok {
			for _, f := range ce.GetFields() {
				e.Fields = append(e.Fields, sdk.FieldError{Field: f.GetField(), Detail: f.GetDetail()})
			}
		}
	}
	return e
}

func describeFromProto(p *connectorv1.DescribeResponse) (sdk.Description, error) {
	d := sdk.Description{Name: p.GetName(), Version: p.GetVersion(), Description: p.GetDescription(), Capabilities: p.GetCapabilities()}
	for _, pf := range p.GetConfig() {
		f := sdk.ConfigField{Name: pf.GetName(), Required: pf.GetRequired(), Secret: pf.GetSecret(), Description: pf.GetDescription()}
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

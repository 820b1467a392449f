package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	connectorv1 "github.com/ordergate/ordergate/sdk/proto/connector/v1"
)

// Client is the host's side of a connector: it calls a connector served
// by Serve (in another process, or in-process in sdktest).
type Client struct {
	rpc connectorv1.ConnectorServiceClient
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

// Describe asks the connector for its description.
func (c *Client) Describe(ctx context.Context) (Description, error) {
	resp, err := c.rpc.Describe(ctx, &connectorv1.DescribeRequest{})
	if err != nil {
		return Description{}, fromStatus(err)
	}
	d, err := describeFromProto(resp)
	if err != nil {
		return d, fmt.Errorf("the connector's description is not valid: %w", err)
	}
	return d, nil
}

// TestConnection runs the connector's connection test with cfg.
func (c *Client) TestConnection(ctx context.Context, cfg Config) (string, error) {
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
func (c *Client) GetOrders(ctx context.Context, cfg Config, cursor string, fn func(Page) error) error {
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
		page := Page{Cursor: msg.GetCursor(), Orders: make([]Order, 0, len(msg.GetOrdersJson()))}
		for i, raw := range msg.GetOrdersJson() {
			var o Order
			if err := json.Unmarshal(raw, &o); err != nil {
				page.Problems = append(page.Problems, Problem{Source: fmt.Sprintf("order %d of the page", i), Message: "not a canonical order: " + err.Error()})
				continue
			}
			page.Orders = append(page.Orders, o)
		}
		for _, p := range msg.GetProblems() {
			page.Problems = append(page.Problems, Problem{Source: p.GetSource(), Message: p.GetMessage(), Notice: p.GetNotice()})
		}
		if err := fn(page); err != nil {
			return err
		}
	}
}

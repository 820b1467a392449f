package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// EvaluateRequest is a dry-run request: an order and the channel it would
// come from (default: a b2b channel named "dry-run").
type EvaluateRequest struct {
	Order   sdk.Order           `json:"order"`
	Channel policy.ChannelInput `json:"channel"`
}

// EvaluateResponse is the decision and the order as it would be stored.
type EvaluateResponse struct {
	Decision *sdk.Decision `json:"decision"`
	Order    *sdk.Order    `json:"order"`
}

func (s *Server) getWorkflow(c *gin.Context) {
	respond(c, http.StatusOK, s.cfg.Engine.Status())
}

func (s *Server) reloadWorkflow(c *gin.Context) {
	if _, err := s.cfg.Engine.Reload(c.Request.Context()); err != nil {
		s.abort(c, host.Errorf(host.EINVALID, "policy reload refused; the previous revision keeps serving: %v", err))
		return
	}
	respond(c, http.StatusOK, s.cfg.Engine.Status())
}

func (s *Server) evaluateWorkflow(c *gin.Context) {
	body, err := readBody(c, s.cfg.BodyLimit)
	if err != nil {
		s.abort(c, err)
		return
	}
	var req struct {
		Order   json.RawMessage     `json:"order"`
		Channel policy.ChannelInput `json:"channel"`
	}
	if err := decodeStrict(body, &req, ""); err != nil {
		s.abort(c, err)
		return
	}
	var o sdk.Order
	if err := decodeStrict(req.Order, &o, "order"); err != nil {
		s.abort(c, err)
		return
	}
	ch := &host.Channel{ID: req.Channel.ID, Kind: req.Channel.Kind}
	if ch.ID == "" {
		ch.ID = o.ChannelID
	}
	if ch.ID == "" {
		ch.ID = "dry-run"
	}
	if ch.Kind == "" {
		ch.Kind = host.ChannelB2B
		if stored, err := s.cfg.Store.Channel(c.Request.Context(), ch.ID); err == nil {
			ch.Kind = stored.Kind
		}
	}
	d, view, err := s.cfg.Orders.Evaluate(c.Request.Context(), ch, &o)
	if err != nil {
		s.abort(c, prefixFields(err, "order"))
		return
	}
	respond(c, http.StatusOK, EvaluateResponse{Decision: d, Order: view})
}

// prefixFields puts prefix before the field paths of a host error.
func prefixFields(err error, prefix string) error {
	var e *host.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make([]sdk.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		out.Fields[i] = sdk.FieldError{Field: prefix + "." + f.Field, Detail: f.Detail}
	}
	return &out
}

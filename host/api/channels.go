package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// ChannelRequest creates a channel.
type ChannelRequest struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Kind is b2b (orders posted to the API) or b2c (imported by a connector).
	Kind string `json:"kind"`
}

// ChannelList lists channels.
type ChannelList struct {
	Channels []*host.Channel `json:"channels"`
}

func (s *Server) createChannel(c *gin.Context) {
	var req ChannelRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	var bad []sdk.FieldError
	if !host.ValidChannelID(req.ID) {
		bad = append(bad, sdk.FieldError{Field: "id", Detail: "must be 1-64 lower-case letters, digits, '_' or '-'"})
	}
	if req.Kind != host.ChannelB2B && req.Kind != host.ChannelB2C {
		bad = append(bad, sdk.FieldError{Field: "kind", Detail: "must be b2b or b2c"})
	}
	if len(req.Name) > 200 {
		bad = append(bad, sdk.FieldError{Field: "name", Detail: "must be at most 200 characters"})
	}
	if len(bad) > 0 {
		s.abort(c, host.InvalidFields("the channel is not valid", bad))
		return
	}
	if req.Name == "" {
		req.Name = req.ID
	}
	want := &host.Channel{ID: req.ID, Name: req.Name, Kind: req.Kind, CreatedAt: time.Now().UTC()}
	ch, err := s.cfg.Channels.EnsureChannel(c.Request.Context(), want)
	if err != nil {
		s.abort(c, err)
		return
	}
	if ch != want {
		s.abort(c, host.Errorf(host.ECONFLICT, "channel %s already exists", req.ID))
		return
	}
	c.Header("Location", "/api/v1/channels/"+ch.ID)
	respond(c, http.StatusCreated, ch)
}

func (s *Server) listChannels(c *gin.Context) {
	list, err := s.cfg.Channels.Channels(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	if list == nil {
		list = []*host.Channel{}
	}
	respond(c, http.StatusOK, ChannelList{Channels: list})
}

func (s *Server) getChannel(c *gin.Context) {
	ch, err := s.cfg.Channels.Channel(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, ch)
}
